import pandas as pd
import streamlit as st

from fragviz.views import charts, forecast_view
from fragviz.app import memo, ui
from fragviz.errors import InputError
from fragviz.forecast.series import SeriesInfo, history_series, read_series_csv

ui.run_through_app()
st.title("Forecast")
ui.source_caption()
st.caption("Load forecasts with calibrated intervals, and when demand reaches the GPUs you own. Pick a series, "
           "a horizon and a model (or let fragviz weigh them by how well they did recently).")

# -- which series ------------------------------------------------------------------------------
history = ui.history()
choices: dict[str, SeriesInfo] = {info.label: info for info in history_series(history).values()} if history else {}
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
    choices[f"Uploaded · {name}"] = SeriesInfo(series, f"Uploaded · {name}", "", capacity_in, None, "allocation")
if not choices:
    st.info("This data source has no history to forecast. Load a History (demo or Prometheus) on the Data page, "
            "or upload a CSV above.")
    st.stop()

labels = list(choices)
left, middle, right = st.columns([3, 1.3, 1.7])
label = left.selectbox("Series", labels, key="fc_series")
horizon = middle.select_slider("Horizon", list(forecast_view.HORIZONS), value="30 days", key="fc_horizon")
model = right.selectbox("Model", list(forecast_view.model_labels()), format_func=forecast_view.model_label,
                        key="fc_model", help="Automatic takes the median of the candidate models with the lowest day-ahead "
                                             "errors over the last seven days of the history, never one worse than a "
                                             "robust baseline (see 'Why this model').")
info = choices[label]

changes: list = []
if info.capacity is not None:
    with st.expander("Planned capacity changes (node additions or removals)"):
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

last = float(run.y.iloc[-1])
cards = st.columns(4)
cards[0].metric("Now", f"{last:,.1f} {run.info.unit}", help=f"Last observed value of {run.info.label} "
                f"at {run.y.index[-1]:%Y-%m-%d %H:%M} UTC" + (f". PromQL: {run.info.query}" if run.info.query else ""))
end = run.forecast.iloc[-1]
cards[1].metric(f"In {horizon} (median)", f"{end['p50']:,.1f} {run.info.unit}", f"{end['p50'] - last:+,.1f}",
                delta_color="off", help="The forecast's median at the end of the horizon, change from now.")
cards[2].metric("80 % interval then", f"{end['p10']:,.0f} – {end['p90']:,.0f}",
                help="Calibrated: the models' own out-of-sample errors at rolling origins inside the history set "
                     "the width, so about 8 in 10 outcomes fall inside (checked in the backtest below).")
if found is not None:
    cards[3].metric("Headroom now", f"{found.headroom_now:,.1f} {run.info.unit}",
                    help="Capacity now (after planned changes up to now) minus the last observed value.")

fig = charts.forecast_chart(run.y, run.forecast, run.info.unit, found.capacity_at if found is not None else None,
                            found.median_date if found else None, found.upper_date if found else None,
                            show_days=max(14.0, pd.Timedelta(forecast_view.HORIZONS[horizon]).days * 1.5))
st.plotly_chart(fig, key="fc_chart")
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
           "week, exponentially weighted levels, statsforecast's Theta and MSTL, a ridge model and gradient-boosted "
           "trees of the change from the recent level on calendar and lag features, and the automatic median of the best "
           "three by recent day-ahead error, with a safety rule. Intervals come from the forecast's own out-of-sample day-ahead "
           "errors (conformal calibration, widened after misses). The runway is "
           "the first time the median (and the 90 % upper bound) reaches capacity after planned changes.")
