import pandas as pd
import streamlit as st

from fragviz.views import forecast_view
from fragviz.app import memo, ui
from fragviz.errors import InputError
from fragviz.forecast import capacity
from fragviz.forecast.capacity import PlannedChange
from fragviz.forecast.series import SeriesInfo, read_series_csv

ui.run_through_app()
st.title("Forecast")
ui.source_caption()
st.caption("Load forecasts with calibrated intervals, and when demand reaches the GPUs you own. Pick a series, "
           "a horizon and a model (or let fragviz weigh them by how well they did recently).")

# -- which series ------------------------------------------------------------------------------
history = ui.history()
snapshot = ui.snapshot()
found_series = memo.memo("fc_series_found", (history, snapshot), lambda: forecast_view.series_choices(history, snapshot))
choices: dict[str, tuple[str, SeriesInfo]] = {info.label: (key, info) for key, info in found_series.items()}
with st.expander("Forecast your own series (CSV)", expanded=not choices):
    upload = st.file_uploader("timestamp,value — or long form timestamp,series,value", type=["csv"], key="fc_upload",
                              help="Timestamps ISO 8601 or epoch seconds (UTC when no zone). Duplicates are averaged, "
                                   "irregular steps put on a regular grid, gaps interpolated; every change is listed.")
    if upload is not None:
        with ui.guarded(f"reading {upload.name}", head=f"Could not read {upload.name}"):
            ui.check_uploads(upload)
            st.session_state["fc_uploaded"] = read_series_csv(upload, file=upload.name)
    capacity_in = st.number_input("Capacity for an uploaded series (optional)", min_value=0.0, value=None,
                                  key="fc_capacity", help="The level the series must stay under, e.g. GPUs owned.")
for name, series in st.session_state.get("fc_uploaded", {}).items():
    choices[f"Uploaded · {name}"] = (f"upload.{name}", SeriesInfo(series, f"Uploaded · {name}", "", capacity_in, None,
                                                                  "allocation"))
if not choices:
    st.info("This data source has no history to forecast. Load a History (demo or Prometheus) on the Data page, "
            "or upload a CSV above.")
    st.stop()

labels = list(choices)
left, middle, right = st.columns([3, 1.3, 1.7])
label = left.selectbox("Series", labels, key="fc_series",
                       help="The cluster, each pool and each GPU model come with their capacity (GPUs owned), "
                            "so their runway is shown; teams and utilisation have none.")
horizon = middle.select_slider("Horizon", list(forecast_view.HORIZONS), value="30 days", key="fc_horizon")
model = right.selectbox("Model", list(forecast_view.model_labels()), format_func=forecast_view.model_label,
                        key="fc_model", help="Automatic takes the median of the candidate models with the lowest day-ahead "
                                             "errors over the last seven days of the history, never one worse than a "
                                             "robust baseline (see 'Why this model'). Every model forecasts its first day "
                                             "itself; beyond it the forecast follows the series' daily (and weekly) "
                                             "profile and its trend.")
key, info = choices[label]

# -- planned capacity ----------------------------------------------------------------------------
planned: list[PlannedChange] = st.session_state.setdefault("fc_planned", [])
types = capacity.node_types(snapshot) if snapshot is not None else []
pools = capacity.pools(snapshot) if snapshot is not None else []
changes: list = capacity.changes_for(key, planned)
likely_type, likely_pool = capacity.defaults_for(key, snapshot) if snapshot is not None else (None, None)
with st.expander(f"Planned capacity changes ({len(planned)})", expanded=bool(planned)):
    if types and pools:
        with st.form("fc_plan_form", clear_on_submit=True, border=False):
            a, b, c, d = st.columns([1, 2.2, 1.6, 1.4])
            count = a.number_input("Nodes", value=1, step=1, min_value=-10_000, max_value=10_000, key="fc_plan_nodes",
                                   help="How many nodes to add; a negative number removes nodes.")
            kind = b.selectbox("Node type", types, format_func=lambda t: t.label, key=f"fc_plan_type_{key}",
                               index=types.index(likely_type) if likely_type in types else 0,
                               help="GPUs per node × GPU model, as in the snapshot's nodes.")
            pool = c.selectbox("Into pool", pools, key=f"fc_plan_pool_{key}",
                               index=pools.index(likely_pool) if likely_pool in pools else 0)
            when = d.date_input("On", value=(pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=30)).date(),
                                key="fc_plan_date")
            if st.form_submit_button("Add planned change", icon=":material/add:"):
                if int(count) == 0:
                    st.warning("0 nodes changes nothing: enter how many nodes to add (or a negative number to remove).")
                else:
                    planned.append(PlannedChange(int(count), kind.gpu_model, kind.gpus, pool,
                                                 pd.Timestamp(when).tz_localize("UTC")))
                    st.rerun()
    for i, change in enumerate(planned):
        row = st.columns([6, 1])
        moves = "moves this series' capacity" if change.applies_to(key) else "not this series"
        row[0].markdown(f"{ui.markdown_text(change.text())} · _{moves}_")
        if row[1].button("Remove", key=f"fc_plan_remove_{i}", icon=":material/delete:"):
            planned.pop(i)
            st.rerun()
    if planned:
        st.caption("A change moves the capacity of the cluster, of its pool and of its GPU model.")
    if info.capacity is not None:
        st.caption("Other changes to this series' capacity only, in GPUs:")
        edited = st.data_editor(pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "GPUs (+ added / − removed)":
                                              pd.Series(dtype="float")}), num_rows="dynamic", key="fc_changes",
                                width="stretch")
        for row in edited.dropna().itertuples(index=False):
            changes.append((pd.Timestamp(row[0]), float(row[1])))


def fit() -> forecast_view.ForecastRun:
    with st.spinner(f"Fitting {forecast_view.model_label(model).lower()} …"):
        return forecast_view.run_forecast(info, forecast_view.HORIZONS[horizon], model, changes)


inputs = (info.series, info.capacity, label, horizon, model, tuple(changes))
with ui.guarded("forecasting this series", head="Could not forecast this series") as outcome:
    try:
        run = memo.memo("fc_run", inputs, lambda: memo.shared("fc_run", inputs, fit))
    except ValueError as exc:                            # the pipeline's own words about this series
        raise InputError(str(exc)) from exc
if outcome.failed:
    if memo.latest("fc_run") is None:
        st.stop()
    run = memo.latest("fc_run")["value"]                 # the last good forecast stays on screen

# -- runway callout ------------------------------------------------------------------------------
found = run.runway
ui.runway_box(run, subject=run.info.label.split(" · ")[0] + " demand")
for note in run.warnings:
    st.warning(note)

unit = run.info.unit
last = float(run.y.iloc[-1])
day = forecast_view.horizon_day(run)
cards = iter(st.columns(3 + int(day.hours) + int(found is not None)))
next(cards).metric("Now", f"{last:,.1f} {unit}", help=f"Last observed value of {run.info.label} "
                f"at {run.y.index[-1]:%Y-%m-%d %H:%M} UTC" + (f". PromQL: {run.info.query}" if run.info.query else ""))
if day.hours:
    next(cards).metric(f"In {horizon}: median", f"{day.median:,.1f} {unit}", f"{day.median - last:+,.1f}",
                    delta_color="off", help="A typical hour of the last forecast day: the median over that day of the "
                                            "median forecast. Change from now.")
    next(cards).metric(f"In {horizon}: daily peak", f"{day.peak:,.1f} {unit}", f"{day.peak - day.seen_peak:+,.1f}",
                    delta_color="off", help=f"The highest median forecast on the last forecast day (at "
                                            f"{day.peak_at:%H:%M} UTC). Change from the peak of the last 24 observed "
                                            f"hours ({day.seen_peak:,.1f} {unit}). Capacity is reached first at peaks.")
else:
    next(cards).metric(f"In {horizon} (median)", f"{day.median:,.1f} {unit}", f"{day.median - last:+,.1f}",
                    delta_color="off", help="The forecast's median at the end of the horizon, change from now.")
next(cards).metric(
    "80 % interval at the peak" if day.hours else "80 % interval then", f"{day.low:,.0f} – {day.high:,.0f}",
    help="Calibrated: the models' own out-of-sample errors at rolling origins inside the history set "
         "the width, so about 8 in 10 outcomes fall inside (checked in the backtest below). Beyond the first "
         "day it keeps widening and is never narrower than the history's spread around its profile and trend.")
if found is not None:
    next(cards).metric("Headroom now", f"{found.headroom_now:,.1f} {unit}",
                     help="Capacity now (after planned changes up to now) minus the last observed value.")

fig = forecast_view.forecast_figure(run, show_days=max(14.0, pd.Timedelta(forecast_view.HORIZONS[horizon]).days * 1.5))
st.plotly_chart(fig, key="fc_chart")
st.caption(f"Forecast by {ui.markdown_text(forecast_view.plain_chosen(run))}"
           + (f"; {run.extension.text(unit)}" if run.extension is not None else "") + ".")
if run.notes:
    with st.expander(f"What cleaning the series did ({len(run.notes)})"):
        st.markdown("\n".join(f"- {ui.markdown_text(note)}" for note in run.notes))

explained = forecast_view.auto_explanation(run.model)
with st.expander("Why this model", expanded=False):
    if explained is not None:
        st.caption("Each candidate forecast a full day from the same time of day on each of the last days of the history "
                   "(seeing only the data before each origin). Only the robust baselines (last value with spikes removed, "
                   "median of the last day, median of the same time on the last 3 days) and candidates at least as good "
                   "as the best of them are eligible; the forecast is the median of the 3 best. If that rule did worse "
                   "than the best robust baseline by more than 30 % on those days, the baseline forecasts instead. "
                   + ui.markdown_text(str(getattr(run.model, "validation_note_", ""))))
        st.dataframe(explained, width="stretch")
    else:
        st.caption(f"{forecast_view.model_label(model)} was chosen by hand. Run the backtest to compare it with the others.")

st.subheader("Backtest")
st.caption("Rolling origins at midnight: every model is refit on the data before each origin and scored on what "
           "happened next. relMAE < 1 beats 'same time yesterday'; coverage80 should be near 80 %.")
if st.button("Run backtest", icon=":material/science:", key="fc_backtest_go"):
    with ui.guarded("running the backtest"), \
            st.status(f"Backtesting {len(forecast_view.BACKTEST_MODELS)} models …", expanded=False) as status:
        table, origins = forecast_view.backtest_table(run.y, forecast_view.horizon_steps(run.y, forecast_view.HORIZONS[horizon]))
        status.update(label=f"Backtest done: {len(origins)} origins", state="complete")
        memo.remember("fc_backtest", inputs, table=table)
backtest = memo.recall("fc_backtest", inputs)
if backtest is not None:
    if backtest["table"].empty:
        st.warning("The history is too short for a backtest at this horizon.")
    else:
        st.dataframe(backtest["table"], width="stretch", hide_index=True,
                     column_config={"relMAE": st.column_config.NumberColumn(format="%.3f", help="MAE / MAE of same time yesterday"),
                                    "MASE": st.column_config.NumberColumn(format="%.3f"),
                                    "sMAPE": st.column_config.NumberColumn(format="%.1f"),
                                    "coverage80": st.column_config.NumberColumn(format="%.2f"),
                                    "coverage95": st.column_config.NumberColumn(format="%.2f")})
ui.explain("forecasts", "Series come from the History (demo or Prometheus: the PromQL is in each number's tooltip) "
           "or an uploaded CSV, put on a regular grid first. Models: robust baselines (last value with spikes "
           "removed, median of the last day, median of the same time on the last 3 days), same time yesterday / last "
           "week, exponentially weighted levels, the Theta method and a seasonal decomposition (MSTL), a linear "
           "regression and gradient-boosted "
           "trees of the change from the recent level on calendar and lag features, and the automatic median of the best "
           "three by recent day-ahead error, with a safety rule. Intervals come from the forecast's own out-of-sample day-ahead "
           "errors (conformal calibration, widened after misses). Every model forecasts its first day itself; beyond it "
           "the forecast is the series' profile (the median at each hour of the day, and of the week with 3 weeks of "
           "history) plus a robust trend (the median slope between daily means), joined to the model's first day; "
           "its interval keeps widening and is never narrower than the history's spread around profile and trend. "
           "Capacity is the GPUs owned by the cluster, the pool or the GPU model, moved by planned changes: N nodes "
           "of a type into a pool change the cluster's, that pool's and that GPU model's capacity from their date. "
           "The runway is the first time the median (and the 90 % upper bound) reaches capacity; with hourly data "
           "that is at a daily peak, and it says when a typical hour (the day's median) gets there too.")
