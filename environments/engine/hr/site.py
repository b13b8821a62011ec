"""The HR portal's pages, written with the authoring kit: the employee directory and each
employee's page (with a transfer form for one's own reports), the actor's time off (balances,
requests, a request form, cancelling), approvals of the reports' leave, expense reports with
their items, payroll corrections and the company policy.

The portal enforces what a real one does (balances, overlaps, notice, blackout, caps, receipts,
who may approve what); a manager's judgement is left to the manager: an approval within their
authority goes through even when the policy says it should not, and the verifier judges it.
"""

from __future__ import annotations

from datetime import date

from environments.engine.kit import (
    Column,
    ConfirmDialog,
    DataTable,
    Field,
    Filter,
    Form,
    FormError,
    KitSite,
    NavMenu,
    RowAction,
    by_id,
    error,
    long_date,
    money,
    replace_record,
    success,
)
from environments.engine.page import Element, Page
from environments.engine.registry import register

from .solver import HrSolver
from .tasks import FAMILIES
from .world import (
    CAPS,
    CATEGORIES,
    HR_DEPARTMENT,
    LEAVE_TYPES,
    LOCATIONS,
    PER_DIEM,
    REASONS,
    RECEIPT_OVER,
    build_world,
    business_days,
    overlaps,
)

BALANCE_KEY = {"Vacation": "vacation", "Sick": "sick"}

DIRECTORY = DataTable(
    "directory",
    "Employees",
    (
        Column("name", "Name"),
        Column("department", "Department"),
        Column("title", "Title"),
        Column("location", "Office"),
        Column("manager_name", "Manager"),
    ),
    filters=(
        Filter("name", "Name contains", "text"),
        Filter("department", "Department"),
        Filter("location", "Office"),
    ),
    open="open_employee",
    sort=("name", False),
    noun="employees",
)
TRANSFER = Form(
    "transfer",
    "Transfer",
    (
        Field("location", "New office", "select", required=True, options=LOCATIONS),
        Field("reason", "Reason", required=True, max_length=200),
    ),
    "Save transfer",
    on_submit="transfer",
)
MY_LEAVE = DataTable(
    "my_leave",
    "My requests",
    (
        Column("type", "Type"),
        Column("start", "From", long_date),
        Column("end", "To", long_date),
        Column("days", "Days"),
        Column("status", "Status"),
    ),
    actions=(RowAction("Cancel request", "ask_cancel"),),
    sort=("start", False),
    noun="requests",
)
CANCEL = ConfirmDialog(
    "cancel",
    "Cancel this request?",
    on_confirm="cancel_leave",
    confirm="Cancel request",
    cancel="Keep",
)
LEAVE_FORM = Form(
    "leave",
    "Request time off",
    (
        Field("type", "Type", "select", required=True, options=LEAVE_TYPES),
        Field("start", "First day (YYYY-MM-DD)", "date", required=True),
        Field("end", "Last day (YYYY-MM-DD)", "date", required=True),
        Field("note", "Note", max_length=200),
    ),
    "Submit request",
    on_submit="request_leave",
)
APPROVALS = DataTable(
    "approvals",
    "Pending requests",
    (
        Column("employee_name", "Employee"),
        Column("type", "Type"),
        Column("start", "From", long_date),
        Column("end", "To", long_date),
        Column("days", "Days"),
        Column("submitted", "Submitted", long_date),
    ),
    actions=(
        RowAction("Approve", "ask_approve"),
        RowAction("Reject", "open_reject"),
        RowAction("Forward to HR", "forward"),
    ),
    sort=("submitted", False),
    noun="requests",
)
APPROVE = ConfirmDialog("approve", "Approve this request?", on_confirm="approve", confirm="Approve")
REJECT = Form(
    "reject",
    "Reject request",
    (Field("reason", "Policy reason", "select", required=True, options=REASONS),),
    "Reject request",
    on_submit="reject",
)
REPORTS = DataTable(
    "reports",
    "My expense reports",
    (Column("title", "Title"), Column("status", "Status"), Column("total", "Total", money)),
    open="open_report",
    noun="reports",
)
NEW_REPORT = Form(
    "new_report",
    "New expense report",
    (Field("title", "Report title", required=True, max_length=80),),
    "Create report",
    on_submit="create_report",
)
ITEMS = DataTable(
    "items",
    "Items",
    (
        Column("category", "Category"),
        Column("date", "Date", long_date),
        Column("amount", "Amount", money),
        Column("receipt_shown", "Receipt"),
        Column("description", "Description"),
    ),
    actions=(RowAction("Remove", "remove_item"),),
    page_size=20,
    noun="items",
)
ADD_ITEM = Form(
    "item",
    "Add item",
    (
        Field("category", "Category", "select", required=True, options=CATEGORIES),
        Field("date", "Date (YYYY-MM-DD)", "date", required=True),
        Field("amount", "Amount", "money", required=True, minimum=1, maximum=1_000_000),
        Field("description", "Description", required=True, max_length=120),
        Field("receipt", "Receipt attached", "checkbox"),
    ),
    "Add item",
    on_submit="add_item",
)
CORRECTIONS = DataTable(
    "corrections",
    "Payroll corrections",
    (
        Column("employee_name", "Employee"),
        Column("period", "Pay period"),
        Column("amount", "Amount", money),
        Column("reason", "Reason"),
        Column("approver_name", "Approver"),
    ),
    noun="corrections",
)
TITLES = {
    "directory": "Directory",
    "employee": "Employee",
    "timeoff": "My time off",
    "approvals": "Approvals",
    "reject": "Reject request",
    "expenses": "Expenses",
    "report": "Expense report",
    "payroll": "Payroll corrections",
    "policy": "Policy",
}


def _name(state: dict, eid: str) -> str:
    return by_id(state["employees"], eid)["name"] if eid else ""


def _label(employee: dict) -> str:
    return f"{employee['name']} ({employee['department']})"


def _correction_form(state: dict) -> Form:
    """The payroll form: employees and approvers by name and department (the options are the
    world's, the same for every state of a seed)."""
    staff = tuple(_label(e) for e in state["employees"])
    approvers = tuple(
        _label(e)
        for e in state["employees"]
        if not e["manager"] or e["department"] == HR_DEPARTMENT
    )
    return Form(
        "correction",
        "New payroll correction",
        (
            Field("employee", "Employee", "select", required=True, options=staff),
            Field("period", "Pay period", "select", required=True, options=tuple(state["periods"])),
            Field("amount", "Amount", "money", required=True, minimum=1, maximum=1_000_000),
            Field("reason", "Reason", required=True, max_length=200),
            Field("approver", "Approver", "select", required=True, options=approvers),
        ),
        "File correction",
        on_submit="file_correction",
    )


class _CorrectionPart:
    """Routes the payroll form's clicks to the form built for the state (its options depend
    on the seed's employees)."""

    name = "correction"
    transient = True

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        return _correction_form(state).click(site, state, action)


@register
class HrSite(KitSite):
    """An HR portal where the actor is one department's manager."""

    env_id = "hr"
    version = 1
    title = "Northwind HR portal"
    start_page = "directory"
    navigation = ("directory", "timeoff", "approvals", "expenses", "payroll", "policy")
    menu = NavMenu(
        (
            ("Directory", "directory"),
            ("Time off", (("My time off", "timeoff"), ("Approvals", "approvals"))),
            ("Expenses", "expenses"),
            ("Payroll corrections", "payroll"),
            ("Policy", "policy"),
        )
    )
    parts = (
        DIRECTORY,
        TRANSFER,
        MY_LEAVE,
        CANCEL,
        LEAVE_FORM,
        APPROVALS,
        APPROVE,
        REJECT,
        REPORTS,
        NEW_REPORT,
        ITEMS,
        ADD_ITEM,
        CORRECTIONS,
        _CorrectionPart(),
    )
    families = FAMILIES
    # Test-split only (see splits.py): an evaluation reports these beside the trained ones.
    heldout_families = ("transfer_employee",)
    heldout_variants = ("mixed",)
    solver = HrSolver

    def build_world(self, seed: int) -> dict:
        return {**build_world(seed), "open": None}

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        body = getattr(self, f"_{name}")(state)
        return self.layout(state, TITLES[name], body)

    # Pages --------------------------------------------------------------------------------

    def _directory(self, state: dict) -> list[Element]:
        rows = [{**e, "manager_name": _name(state, e["manager"])} for e in state["employees"]]
        return DIRECTORY.render(state, rows)

    def _employee(self, state: dict) -> list[Element]:
        e = by_id(state["employees"], state["open"])
        out = [
            Element("heading", e["name"]),
            Element("text", f"Email: {e['email']}"),
            Element("text", f"Department: {e['department']}"),
            Element("text", f"Title: {e['title']}"),
            Element("text", f"Office: {e['location']}"),
            Element("text", f"Manager: {_name(state, e['manager']) or 'none'}"),
            Element("text", f"Vacation balance: {e['vacation']} days"),
            Element("text", f"Sick balance: {e['sick']} days"),
        ]
        if e["manager"] == state["me"]:
            out.append(TRANSFER.render(state))
        return out

    def _timeoff(self, state: dict) -> list[Element]:
        me = by_id(state["employees"], state["me"])
        mine = [r for r in state["time_off"] if r["employee"] == state["me"]]
        return [
            Element("text", f"Signed in as {me['name']}, {me['title']}"),
            Element("text", f"Today is {long_date(state['today'])}."),
            Element("text", f"Vacation balance: {me['vacation']} days"),
            Element("text", f"Sick balance: {me['sick']} days"),
            *MY_LEAVE.render(state, mine),
            LEAVE_FORM.render(state),
        ]

    def _approvals(self, state: dict) -> list[Element]:
        reports = {e["id"] for e in state["employees"] if e["manager"] == state["me"]}
        pending = [
            {**r, "employee_name": _name(state, r["employee"])}
            for r in state["time_off"]
            if r["employee"] in reports and r["status"] == "pending"
        ]
        hr_days = state["policy"]["hr_days"]
        note = f"You approve your reports' requests of up to {hr_days} days; longer ones go to HR."
        today = Element("text", f"Today is {long_date(state['today'])}.")
        return [today, Element("text", note), *APPROVALS.render(state, pending)]

    def _reject(self, state: dict) -> list[Element]:
        r = by_id(state["time_off"], state["open"])
        text = (
            f"{_name(state, r['employee'])}: {r['type']} from {long_date(r['start'])} "
            f"to {long_date(r['end'])} ({r['days']} days)"
        )
        return [Element("text", text), REJECT.render(state)]

    def _expenses(self, state: dict) -> list[Element]:
        return [*REPORTS.render(state, self._reports(state)), NEW_REPORT.render(state)]

    def _report(self, state: dict) -> list[Element]:
        report = by_id(state["expense_reports"], state["open"])
        items = [
            {**i, "receipt_shown": "Yes" if i["receipt"] else "No"}
            for i in state["expense_items"]
            if i["report"] == report["id"]
        ]
        total = sum(i["amount"] for i in items)
        out = [
            Element("heading", report["title"]),
            Element("text", f"Status: {report['status']}"),
            Element("text", f"Total: {money(total)}"),
            *ITEMS.render(state, items),
        ]
        if report["status"] == "draft":
            out.append(ADD_ITEM.render(state))
            out.append(Element("button", "Submit report", key="submit_report"))
        return out

    def _payroll(self, state: dict) -> list[Element]:
        rows = [
            {
                **c,
                "employee_name": _name(state, c["employee"]),
                "approver_name": _name(state, c["approver"]),
            }
            for c in state["corrections"]
        ]
        return [*CORRECTIONS.render(state, rows), _correction_form(state).render(state)]

    def _policy(self, state: dict) -> list[Element]:
        p = state["policy"]
        start, end = p["blackout"]
        leave = [
            f"Vacation accrues at {p['accrual']} days at the end of each month.",
            f"At most {p['carry_limit']} unused vacation days carry over into the next year.",
            f"Requests need at least {p['notice_days']} calendar days' notice.",
            f"No leave from {long_date(start)} to {long_date(end)} (blackout period).",
            f"Managers approve requests of up to {p['hr_days']} days; longer ones need HR.",
        ]
        caps = [f"{c}: at most {money(v)} per item." for c, v in CAPS.items()]
        diems = [f"Per diem in {city}: {money(v)} a day." for city, v in PER_DIEM.items()]
        receipt = f"A receipt is required for any item over {money(RECEIPT_OVER)}."
        return [
            Element("text", f"Today is {long_date(state['today'])}."),
            Element("heading", "Time off"),
            Element("list", "Time off policy", children=[Element("listitem", t) for t in leave]),
            Element("heading", "Expenses"),
            Element(
                "list",
                "Expense policy",
                children=[Element("listitem", t) for t in [*caps, *diems, receipt]],
            ),
        ]

    def _reports(self, state: dict) -> list[dict]:
        totals: dict[str, int] = {}
        for item in state["expense_items"]:
            totals[item["report"]] = totals.get(item["report"], 0) + item["amount"]
        return [{**r, "total": totals.get(r["id"], 0)} for r in state["expense_reports"]]

    # Handlers ------------------------------------------------------------------------------

    def on_action(self, state: dict, key: str) -> dict:
        if key == "submit_report":
            return self.submit_report(state)
        return super().on_action(state, key)

    def open_employee(self, state: dict, eid: str) -> dict:
        return {**state, "page": "employee", "open": eid, "form": {}, "alert": None}

    def transfer(self, state: dict, values: dict) -> dict:
        e = by_id(state["employees"], state["open"])
        if e["manager"] != state["me"]:
            raise FormError("You can only transfer your own reports.")
        if values["location"] == e["location"]:
            raise FormError(f"{e['name']} already works in {e['location']}.", field="location")
        employees = replace_record(state["employees"], e["id"], location=values["location"])
        text = f"{e['name']} moves to {values['location']}."
        return success({**state, "employees": employees}, text)

    def request_leave(self, state: dict, values: dict) -> dict:
        policy, start, end = state["policy"], values["start"], values["end"]
        if end < start:
            raise FormError("The last day cannot be before the first day.", field="end")
        days = business_days(start, end)
        if days == 0:
            raise FormError("The request covers no working day.", field="start")
        notice = (date.fromisoformat(start) - date.fromisoformat(state["today"])).days
        if notice < policy["notice_days"]:
            raise FormError(
                f"Requests need at least {policy['notice_days']} days' notice; "
                f"{long_date(start)} is {notice} days away.",
                field="start",
            )
        if overlaps(start, end, *policy["blackout"]):
            b0, b1 = policy["blackout"]
            raise FormError(
                f"The request falls in the blackout period ({long_date(b0)} to {long_date(b1)})."
            )
        for r in state["time_off"]:
            live = r["status"] in ("pending", "approved", "with HR")
            if r["employee"] == state["me"] and live and overlaps(start, end, r["start"], r["end"]):
                raise FormError(
                    f"This overlaps your {r['type'].lower()} request from {long_date(r['start'])} "
                    f"to {long_date(r['end'])}."
                )
        me = by_id(state["employees"], state["me"])
        balance = me[BALANCE_KEY[values["type"]]]
        if days > balance:
            raise FormError(
                f"Insufficient balance: you have {balance} {values['type'].lower()} days; "
                f"this request needs {days}."
            )
        record = {
            "id": f"t{len(state['time_off']) + 1}",
            "employee": state["me"],
            "type": values["type"],
            "start": start,
            "end": end,
            "days": days,
            "submitted": state["today"],
            "status": "pending",
            "reason": "",
        }
        text = f"Requested {days} {values['type'].lower()} days; your manager has been notified."
        return success({**state, "time_off": [*state["time_off"], record]}, text)

    def ask_cancel(self, state: dict, rid: str) -> dict:
        r = by_id(state["time_off"], rid)
        if r["status"] not in ("pending", "approved"):
            return error(state, f"This request is {r['status']} already.")
        text = f"Cancel your {r['type'].lower()} from {long_date(r['start'])}?"
        return CANCEL.open(state, text, {"id": rid})

    def cancel_leave(self, state: dict, payload: dict) -> dict:
        r = by_id(state["time_off"], payload["id"])
        if r["status"] not in ("pending", "approved"):
            raise FormError(f"This request is {r['status']} already.")
        employees = state["employees"]
        if r["status"] == "approved":
            key = BALANCE_KEY[r["type"]]
            me = by_id(employees, r["employee"])
            employees = replace_record(employees, me["id"], **{key: me[key] + r["days"]})
        requests = replace_record(state["time_off"], r["id"], status="cancelled")
        text = "Request cancelled." + (
            " Its days are back in your balance." if r["status"] == "approved" else ""
        )
        return success({**state, "time_off": requests, "employees": employees}, text)

    def _pending_report(self, state: dict, rid: str) -> dict:
        r = by_id(state["time_off"], rid)
        if r["status"] != "pending":
            raise FormError(f"This request is {r['status']} already.")
        if by_id(state["employees"], r["employee"])["manager"] != state["me"]:
            raise FormError("You can only decide your own reports' requests.")
        return r

    def ask_approve(self, state: dict, rid: str) -> dict:
        try:
            r = self._pending_report(state, rid)
        except FormError as exc:
            return error(state, exc.message)
        text = (
            f"Approve {r['days']} {r['type'].lower()} days for {_name(state, r['employee'])} "
            f"from {long_date(r['start'])}?"
        )
        return APPROVE.open(state, text, {"id": rid})

    def approve(self, state: dict, payload: dict) -> dict:
        r = self._pending_report(state, payload["id"])
        rid = r["id"]
        hr_days = state["policy"]["hr_days"]
        if r["days"] > hr_days:
            raise FormError(f"Requests over {hr_days} days need HR approval: forward it to HR.")
        e = by_id(state["employees"], r["employee"])
        key = BALANCE_KEY[r["type"]]
        if r["days"] > e[key]:
            raise FormError(
                f"Insufficient balance: {e['name']} has {e[key]} {r['type'].lower()} days; "
                f"the request needs {r['days']}.",
            )
        employees = replace_record(state["employees"], e["id"], **{key: e[key] - r["days"]})
        requests = replace_record(state["time_off"], rid, status="approved")
        text = f"Approved {e['name']}'s request."
        return success({**state, "time_off": requests, "employees": employees}, text)

    def forward(self, state: dict, rid: str) -> dict:
        try:
            r = self._pending_report(state, rid)
        except FormError as exc:
            return error(state, exc.message)
        hr_days = state["policy"]["hr_days"]
        if r["days"] <= hr_days:
            return error(
                state,
                f"Requests of up to {hr_days} days are yours to decide: approve or reject it.",
            )
        requests = replace_record(state["time_off"], rid, status="with HR")
        return success({**state, "time_off": requests}, "Forwarded to HR.")

    def open_reject(self, state: dict, rid: str) -> dict:
        try:
            self._pending_report(state, rid)
        except FormError as exc:
            return error(state, exc.message)
        return {**state, "page": "reject", "open": rid, "form": {}, "alert": None}

    def reject(self, state: dict, values: dict) -> dict:
        r = self._pending_report(state, state["open"])
        requests = replace_record(
            state["time_off"], r["id"], status="rejected", reason=values["reason"]
        )
        text = f"Rejected {_name(state, r['employee'])}'s request: {values['reason']}."
        return success({**state, "time_off": requests, "page": "approvals", "open": None}, text)

    def open_report(self, state: dict, rid: str) -> dict:
        return {**state, "page": "report", "open": rid, "form": {}, "alert": None}

    def create_report(self, state: dict, values: dict) -> dict:
        rid = f"r{len(state['expense_reports']) + 1}"
        report = {"id": rid, "title": values["title"], "status": "draft"}
        state = {**state, "expense_reports": [*state["expense_reports"], report]}
        return success(self.open_report(state, rid), "Report created: add its items.")

    def add_item(self, state: dict, values: dict) -> dict:
        report = by_id(state["expense_reports"], state["open"])
        if report["status"] != "draft":
            raise FormError("This report is submitted: its items cannot change.")
        if values["date"] > state["today"]:
            raise FormError("An expense cannot be dated in the future.", field="date")
        category, amount = values["category"], values["amount"]
        if category == "Per diem":
            location = by_id(state["employees"], state["me"])["location"]
            cap, what = PER_DIEM[location], f"The per diem in {location}"
        else:
            cap, what = CAPS[category], f"{category} items"
        if amount > cap:
            raise FormError(f"Over policy limit: {what} is capped at {money(cap)}.", field="amount")
        if amount > RECEIPT_OVER and not values["receipt"]:
            raise FormError(
                f"Missing receipt: items over {money(RECEIPT_OVER)} need one attached.",
                field="receipt",
            )
        item = {
            "id": f"x{len(state['expense_items']) + 1}",
            "report": report["id"],
            "category": category,
            "date": values["date"],
            "amount": amount,
            "receipt": values["receipt"],
            "description": values["description"],
        }
        text = f"Added {category.lower()} of {money(amount)}."
        return success({**state, "expense_items": [*state["expense_items"], item]}, text)

    def remove_item(self, state: dict, iid: str) -> dict:
        item = by_id(state["expense_items"], iid)
        if by_id(state["expense_reports"], item["report"])["status"] != "draft":
            return error(state, "This report is submitted: its items cannot change.")
        items = [i for i in state["expense_items"] if i["id"] != iid]
        return success({**state, "expense_items": items}, "Item removed.")

    def submit_report(self, state: dict) -> dict:
        report = by_id(state["expense_reports"], state["open"])
        if not any(i["report"] == report["id"] for i in state["expense_items"]):
            return error(state, "Add at least one item before submitting.")
        reports = replace_record(state["expense_reports"], report["id"], status="submitted")
        return success({**state, "expense_reports": reports}, "Report submitted for approval.")

    def file_correction(self, state: dict, values: dict) -> dict:
        by_label = {_label(e): e for e in state["employees"]}
        employee, approver = by_label[values["employee"]], by_label[values["approver"]]
        if approver["id"] == employee["id"]:
            raise FormError("Nobody approves their own correction.", field="approver")
        if approver["id"] != employee["manager"] and approver["department"] != HR_DEPARTMENT:
            raise FormError(
                f"The approver must be {employee['name']}'s manager or an HR partner.",
                field="approver",
            )
        correction = {
            "id": f"p{len(state['corrections']) + 1}",
            "employee": employee["id"],
            "period": values["period"],
            "amount": values["amount"],
            "reason": values["reason"],
            "approver": approver["id"],
        }
        text = f"Correction of {money(values['amount'])} filed for {employee['name']}."
        return success({**state, "corrections": [*state["corrections"], correction]}, text)
