"""The doctor's diagnoses: a list, the highlighted one's message and fix, Enter to go there."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from gradscope.records import Alert
from gradscope.render.details import detail_lines
from gradscope.tui.messages import AlertSelected
from gradscope.tui.screens.base import DashboardScreen
from gradscope.tui.viewmodel.data import StoreData, Update
from gradscope.tui.widgets.plain import PlainStatic, cell
from gradscope.tui.widgets.run_header import SEVERITY_STYLES

NO_ALERTS = (
    "No alerts so far. Diagnoses appear here as the doctor finds them "
    "(gradscope doctor STORE runs it over a finished run)."
)


class AlertsScreen(DashboardScreen):
    """Every alert of the run, worst first, in the order they were raised."""

    def __init__(self, data: StoreData) -> None:
        super().__init__(data)
        self._shown: list[Alert] = []

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="alert-table", cursor_type="row")
        with VerticalScroll(id="alert-detail"):
            yield PlainStatic(NO_ALERTS, id="alert-message")

    def on_mount(self) -> None:
        table = self.query_one("#alert-table", DataTable)
        table.add_column("severity", key="severity", width=8)
        table.add_column("code", key="code")
        table.add_column("where", key="where")
        table.add_column("step", key="step", width=7)
        table.focus()

    def redraw(self, update: Update) -> None:
        rank = {"error": 0, "warning": 1, "info": 2}
        alerts = sorted(self.data.alerts, key=lambda a: rank.get(a.severity, 3))
        if alerts == self._shown:
            return
        self._shown = alerts
        table = self.query_one("#alert-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for i, alert in enumerate(alerts):
            table.add_row(
                Text(alert.severity, style=SEVERITY_STYLES.get(alert.severity, "")),
                cell(alert.code),
                cell(alert.where),
                Text("—" if alert.step is None else str(alert.step), justify="right"),
                key=str(i),
            )
        if alerts:
            table.move_cursor(row=min(cursor, len(alerts) - 1), animate=False)
            self._describe(alerts[table.cursor_row])

    def _describe(self, alert: Alert) -> None:
        text = Text()
        text.append(f"{alert.code}", style="bold")
        text.append(f" · {alert.severity} · {alert.where}")
        if alert.step is not None:
            text.append(f" · step {alert.step}")
        text.append("\n\n" + alert.message)
        if alert.details:
            text.append("\n\n")
            lines = detail_lines(alert.details)
            width = max(len(label) for label, _ in lines)
            for label, shown in lines:
                text.append(f"{label.ljust(width)}  ", style="dim")
                text.append(f"{shown}\n")
        text.append("\nEnter: go to it", style="dim")
        self.query_one("#alert-message", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self._shown):
            self._describe(self._shown[event.cursor_row])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self._shown):
            self.post_message(AlertSelected(self._shown[event.cursor_row]))
