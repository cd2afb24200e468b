"""The text of a notice (issue #16), Chinese by default, from the catalogs in `ledger/locale`
(message ids are English, as everywhere): `render(notice, tz, lang) -> (title, text)`. Phone
numbers are masked in the whole text (`ledger.phone.mask_numbers`), whatever a reason quotes."""
from __future__ import annotations

import datetime as dt
import gettext
from zoneinfo import ZoneInfo

from ledger import i18n
from ledger.phone import mask_numbers
from projections.notices import Notice


def N_(message: str) -> str:
    return message


TEXTS = {
    "title": N_("Lead Ledger notice"),
    "allocated": N_("New lead {lead} ({channel}) goes to {owner} by {rule}."),
    "nobody": N_("New lead {lead} ({channel}): nobody could take it ({rule})."),
    "passed": N_("Passed: {who}: {why}"),
    "corrected": N_("Correction: lead {lead} now goes to {owner} by {rule}, not to {previous} as noticed before."),
    "withdrawn": N_("Correction: lead {lead} was withdrawn (its entry was voided, R-CO-2); it no longer goes to "
                    "{previous}."),
    "moved": N_("The customer of lead {lead} moved from {previous} to {owner} ({rule})."),
    "disputed": N_("Dispute: {claimant} claims the customer of lead {lead}, held by {owner} (R-OW-7); "
                   "a supervisor's ruling is needed."),
    "sanction": N_("Sanction {sanction}: {consultant}, {kind} on {channels}, from {start} until {until} "
                   "({rule}): {reason}"),
    "lifted": N_("Sanction {sanction} of {consultant} lifted at {lifted} (R-SA-9)."),
    "due-soon": N_("Follow-up due soon: the customer of lead {lead}, held by {owner}, is due by {due} ({rule})."),
    "missed": N_("Follow-up missed: the customer of lead {lead}, held by {owner}, was due by {due} ({rule})."),
    "summary": N_("Daily summary of team {team}, {date} (as of {time})"),
    "summary_row": N_("{who}: {leads} leads, {turns} turns, {overdue} overdue follow-ups"),
    "summary_overdue": N_("Overdue follow-ups in all: {n}"),
    "summary_disputes": N_("Open disputes: {n}"),
    "summary_dispute": N_("  lead {lead}, held by {owner}"),
    "summary_tomorrow": N_("Sanctions starting tomorrow: {n}"),
    "summary_sanction": N_("  {consultant}: {kind} on {channels}, from {start} until {until} ({rule})"),
    "key": N_("Notice key: {key}"),
    "at": N_("At: {at}"),
    "all channels": N_("all channels"),
    "until lifted": N_("until lifted"),
    "nobody_owner": N_("nobody"),
}


def translator(lang: str) -> gettext.NullTranslations:
    """The ledger catalog (`ledger/locale`, shared with the CLI and the web desk)."""
    return i18n.translations(lang)


def _when(value: str | None, tz: ZoneInfo) -> str:
    if not value:
        return "-"
    return dt.datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _who(person: dict | None, t) -> str:
    if not person:
        return t(TEXTS["nobody_owner"])
    return f"{person['name']} ({person['id']})" if person["name"] != person["id"] else person["id"]


def render(notice: Notice, tz: ZoneInfo, lang: str = "zh") -> tuple[str, str]:
    """(title, text) of a notice; the text ends with its key."""
    tr = translator(lang)
    t = tr.gettext
    f = notice.facts
    lines = _lines(notice, f, t, tz)
    if "at" in f and notice.kind not in ("sanction", "lifted"):
        lines.append(t(TEXTS["at"]).format(at=_when(f["at"], tz)))
    text = mask_numbers("\n".join(lines))
    return t(TEXTS["title"]), text + "\n" + t(TEXTS["key"]).format(key=notice.key)


def _channels(f: dict, t) -> str:
    return t(TEXTS["all channels"]) if "*" in f["channels"] else "、".join(t(c) for c in f["channels"])


def _summary(f: dict, t, tz: ZoneInfo) -> list[str]:
    """The 日报: a line per consultant, then the team's overdue follow-ups, disputes, tomorrow."""
    lines = [t(TEXTS["summary"]).format(team=f["team"], date=f["date"], time=_when(f["moment"], tz)[11:])]
    lines += [t(TEXTS["summary_row"]).format(who=_who(r["consultant"], t), leads=r["leads"], turns=r["turns"],
                                             overdue=r["overdue"]) for r in f["consultants"]]
    lines.append(t(TEXTS["summary_overdue"]).format(n=f["overdue"]))
    lines.append(t(TEXTS["summary_disputes"]).format(n=len(f["disputes"])))
    lines += [t(TEXTS["summary_dispute"]).format(lead=d["lead"], owner=_who(d["owner"], t)) for d in f["disputes"]]
    lines.append(t(TEXTS["summary_tomorrow"]).format(n=len(f["tomorrow"])))
    for s in f["tomorrow"]:
        until = _when(s["until"], tz) if s["until"] else t(TEXTS["until lifted"])
        lines.append(t(TEXTS["summary_sanction"]).format(consultant=_who(s["consultant"], t), kind=t(s["kind"]),
                                                         channels=_channels(s, t), start=_when(s["from"], tz),
                                                         until=until, rule=s["rule"]))
    return lines


def _lines(notice: Notice, f: dict, t, tz: ZoneInfo) -> list[str]:
    kind = notice.kind
    if kind == "summary":
        return _summary(f, t, tz)
    if kind in ("due-soon", "missed"):
        return [t(TEXTS[kind]).format(lead=f["lead"], owner=_who(f["owner"], t), due=_when(f["due"], tz),
                                      rule=f["rule"])]
    if kind == "allocated":
        channel = t(f["channel"])
        if f["owner"] is None:
            return [t(TEXTS["nobody"]).format(lead=f["lead"], channel=channel, rule=f["rule"])]
        lines = [t(TEXTS["allocated"]).format(lead=f["lead"], channel=channel, owner=_who(f["owner"], t),
                                              rule=f["rule"])]
        lines += [t(TEXTS["passed"]).format(who=_who(p["consultant"], t), why=p["why"]) for p in f["passed"]]
        return lines
    if kind == "corrected" and f.get("withdrawn"):
        return [t(TEXTS["withdrawn"]).format(lead=f["lead"], previous=_who(f["previous"], t))]
    if kind == "corrected":
        return [t(TEXTS["corrected"]).format(lead=f["lead"], owner=_who(f["owner"], t), rule=f["rule"],
                                             previous=_who(f["previous"], t))]
    if kind == "moved":
        return [t(TEXTS["moved"]).format(lead=f["lead"], previous=_who(f["from"], t), owner=_who(f["to"], t),
                                         rule=f["rule"])]
    if kind == "disputed":
        return [t(TEXTS["disputed"]).format(lead=f["lead"], claimant=_who(f["claimant"], t),
                                            owner=_who(f["owner"], t))]
    channels = _channels(f, t)
    if kind == "sanction":
        until = _when(f["until"], tz) if f["until"] else t(TEXTS["until lifted"])
        return [t(TEXTS["sanction"]).format(sanction=f["sanction"], consultant=_who(f["consultant"], t),
                                            kind=t(f["kind"]), channels=channels, start=_when(f["from"], tz),
                                            until=until, rule=f["rule"], reason=f["reason"])]
    return [t(TEXTS["lifted"]).format(sanction=f["sanction"], consultant=_who(f["consultant"], t),
                                      lifted=_when(f["lifted"], tz))]
