"""The PDF report's print style: the A4 page margins and the CSS weasyprint lays the pages out with
(running heads, "Page X of Y", cover, contents with page numbers, KPI cards, figures, tables,
recommendations). Used by :mod:`fragviz.report.pdf`."""

from __future__ import annotations

PAGE_MARGIN_MM = (16, 15, 17, 15)                 # top, right, bottom, left

CSS = f"""
@page {{
  size: A4; margin: {PAGE_MARGIN_MM[0]}mm {PAGE_MARGIN_MM[1]}mm {PAGE_MARGIN_MM[2]}mm {PAGE_MARGIN_MM[3]}mm;
  @top-left {{ content: string(doctitle); font-size: 7.5pt; color: #7b8794; vertical-align: bottom;
              padding-bottom: 3mm; }}
  @top-right {{ content: string(chapter); font-size: 7.5pt; color: #7b8794; vertical-align: bottom;
               padding-bottom: 3mm; }}
  @bottom-left {{ content: string(source) " \\00B7  snapshot " string(snapshot); font-size: 7.5pt; color: #7b8794;
                 vertical-align: top; padding-top: 4mm; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-size: 7.5pt; color: #52606d;
                  vertical-align: top; padding-top: 4mm; }}
}}
@page :first {{ @top-left {{ content: none; }} @top-right {{ content: none; }} }}
@page landscape {{ size: A4 landscape; }}

html {{ font-family: "Source Sans 3", "Source Sans Pro", "Helvetica Neue", Helvetica, Arial, "Liberation Sans",
        "DejaVu Sans", sans-serif; font-size: 9.5pt; line-height: 1.42; color: #1f2933; }}
body {{ margin: 0; }}
a {{ color: inherit; text-decoration: none; }}
p {{ margin: 0 0 1.8mm; orphans: 2; widows: 2; }}

/* cover: title band, metadata, contents */
.cover h1 {{ string-set: doctitle content(); }}
.cover dd.source {{ string-set: source content(); }}
.cover dd.snapshot {{ string-set: snapshot content(); }}
.band {{ background: linear-gradient(120deg, #1f3b57, #2f5d8a); color: #fff; border-radius: 3mm;
         padding: 11mm 10mm 9mm; }}
.band .kicker {{ font-size: 8pt; text-transform: uppercase; opacity: .8; }}
.band h1 {{ font-size: 25pt; line-height: 1.15; margin: 2mm 0 2.5mm; font-weight: 700; bookmark-level: none; }}
.band .subtitle {{ font-size: 10.5pt; margin: 0; opacity: .92; }}
.band .bottom-line {{ font-size: 11pt; margin: 4mm 0 0; padding: 2.5mm 3.5mm; border-radius: 2mm;
                      background: rgba(255, 255, 255, .14); }}
dl.meta {{ display: grid; grid-template-columns: 1fr auto auto auto; gap: 0 6mm; margin: 6mm 1mm 2mm;
           padding-bottom: 4mm; border-bottom: .6pt solid #d9dee5; }}
dl.meta dt {{ white-space: nowrap; font-size: 7pt; text-transform: uppercase; color: #7b8794; }}
dl.meta dd {{ margin: .6mm 0 0; font-weight: 700; font-size: 9pt; }}
dl.meta dd.nowrap {{ white-space: nowrap; }}
nav.toc {{ margin: 5mm 1mm 0; }}
nav.toc h2 {{ font-size: 8pt; text-transform: uppercase; color: #7b8794; margin: 0 0 2mm;
              bookmark-level: none; }}
nav.toc ol {{ list-style: none; margin: 0; padding: 0; }}
nav.toc > ol > li {{ margin: 0 0 2.2mm; break-inside: avoid; }}
nav.toc > ol > li > a {{ display: block; font-weight: 700; font-size: 10.5pt; color: #1f3b57; }}
nav.toc a::after {{ content: leader(dotted) " " target-counter(attr(href), page); font-weight: 400; color: #52606d; }}
nav.toc .no {{ display: inline-block; width: 7mm; color: #2f5d8a; }}
nav.toc ul a {{ display: block; }}
nav.toc ul {{ list-style: none; margin: .5mm 0 0 7mm; padding: 0; font-size: 8.5pt; line-height: 1.45; color: #3e4c59; }}

/* sections */
section.chapter {{ break-before: page; }}
h2 .title {{ string-set: chapter content(); }}
h2 {{ font-size: 17pt; line-height: 1.2; margin: 0 0 4mm; padding-bottom: 2mm;
      border-bottom: 1.5pt solid #2f5d8a; color: #1f3b57; bookmark-level: 1; }}
h2 .no {{ color: #2f5d8a; margin-right: 3mm; }}
h3 {{ font-size: 10.5pt; margin: 6mm 0 2mm; color: #1f2933; break-after: avoid; bookmark-level: 2; }}
h3 .tag, figcaption .tag {{ color: #2f5d8a; font-weight: 700; }}
.lead {{ font-size: 9pt; background: #f3f6f9; border-left: 3pt solid #2f5d8a; border-radius: 1.5mm; padding: 2.6mm 4mm .8mm;
         margin: 0 0 4mm; }}
p.step {{ margin: 0 0 1.2mm 5mm; }}

/* KPI cards */
.kpis {{ display: grid; gap: 2.6mm; margin: 0 0 3mm; break-inside: avoid; }}
.kpis.cols1 {{ grid-template-columns: 1fr; }}
.kpis.cols2 {{ grid-template-columns: repeat(2, 1fr); }}
.kpis.cols3 {{ grid-template-columns: repeat(3, 1fr); }}
.kpis.cols4 {{ grid-template-columns: repeat(4, 1fr); }}
.kpis.cols5 {{ grid-template-columns: repeat(5, 1fr); }}
.kpi {{ border: .6pt solid #d9dee5; border-top: 2.4pt solid #2f5d8a; border-radius: 1.5mm; padding: 1.8mm 2.6mm 2mm;
        break-inside: avoid; }}
.kpi.warm {{ border-top-color: #e8833a; }}
.kpi.bad {{ border-top-color: #c0392b; }}
.kpi .label {{ font-size: 6.8pt; text-transform: uppercase; color: #52606d; line-height: 1.25;
               min-height: 2.6em; }}
.kpi .value {{ font-size: 15pt; font-weight: 700; line-height: 1.15; margin-top: 1mm; color: #1f2933; }}
.kpi-note {{ font-size: 7.5pt; color: #7b8794; margin: -1mm 0 4mm; }}
a.ref {{ color: #2f5d8a; }}
a.ref::after {{ content: " (page " target-counter(attr(href), page) ")"; }}

/* figures */
figure {{ margin: 4mm 0 3mm; break-inside: avoid; text-align: center; }}
figure h3 {{ text-align: left; margin-top: 0; }}
figure img {{ display: block; margin: 0 auto; }}
figcaption {{ text-align: left; font-size: 8pt; color: #52606d; margin-top: 1.5mm; }}
.chart-missing {{ border: .6pt dashed #c0c8d2; color: #7b8794; font-size: 8pt; }}

/* tables */
div.table {{ margin: 4mm 0 3mm; }}
div.table.landscape {{ page: landscape; }}
div.table h3 {{ margin-top: 0; }}
table {{ table-layout: fixed; border-collapse: collapse; font-stretch: condensed; line-height: 1.3; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
th {{ background: #e8eef5; color: #1f3b57; font-weight: 700; text-align: left; vertical-align: bottom;
      padding: 1.4mm 1.6mm; border-bottom: 1pt solid #2f5d8a; }}
td {{ padding: 1.1mm 1.6mm; border-bottom: .4pt solid #e1e6ec; vertical-align: top; }}
tbody tr:nth-child(even) td {{ background: #f6f8fa; }}
th.num, td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.num {{ white-space: nowrap; }}
td {{ overflow-wrap: anywhere; }}
div.table.keep {{ break-inside: avoid; }}
td.none {{ color: #7b8794; font-style: italic; }}
.note {{ font-size: 7.5pt; color: #52606d; margin: 1.5mm 0 0; }}

/* recommendations */
ol.recs {{ list-style: none; margin: 2mm 0 0; padding: 0; counter-reset: rec; }}
ol.recs li {{ counter-increment: rec; position: relative; border: .6pt solid #d9dee5; border-left: 2.4pt solid #2f5d8a;
              border-radius: 1.5mm; padding: 2.6mm 4mm 2.6mm 13mm; margin: 0 0 2.6mm; break-inside: avoid; }}
ol.recs li::before {{ content: counter(rec); position: absolute; left: 3.5mm; top: 2.4mm; width: 6mm; height: 6mm;
                      line-height: 6mm; border-radius: 3mm; background: #2f5d8a; color: #fff; font-weight: 700;
                      font-size: 8.5pt; text-align: center; }}
ol.recs .text {{ display: block; }}
ol.recs .basis {{ display: block; font-size: 7.5pt; color: #7b8794; margin-top: 1mm; }}
"""
