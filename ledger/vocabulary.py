"""Message ids translated by value, by the web desk's templates (`{{ _(c.channel) }}`) and the
command line's human output (`cli.app.word`): channels, modes, windows, presences, statuses,
roles, sanction kinds, event types, candidates' outcomes. Marked here so that extraction finds
them; their translations are in the catalogs (`ledger/locale`), not in this file."""
from __future__ import annotations


def N_(message: str) -> str:
    return message


WORDS = [
    # channels and queue modes
    N_("hotline"), N_("online"), N_("hq_referral"), N_("internal_referral"), N_("walk_in"), N_("marketing"),
    N_("conference"), N_("customer_referral"), N_("outbound"), N_("rotation"), N_("ranking"), N_("weighted"),
    # windows of the day
    N_("early"), N_("day"), N_("late"), N_("off_early"), N_("off_late"),
    # presences and statuses
    N_("on_post"), N_("away"), N_("leave"), N_("busy_new"), N_("busy_old"), N_("eligible"), N_("suspended"),
    N_("skip"), N_("throttled"), N_("held"), N_("left"), N_("throttle"), N_("suspend"),
    # roles
    N_("supervisor"), N_("reception"), N_("consultant"), N_("viewer"),
    # event types in a timeline
    N_("LeadArrived"), N_("FollowUpLogged"), N_("ClaimMade"), N_("RulingMade"), N_("CustomersLinked"),
    N_("CustomersUnlinked"), N_("ContractSigned"), N_("PaymentReceived"), N_("ContractRefunded"),
    N_("ContractCancelled"), N_("GradeProposed"), N_("GradeConfirmed"), N_("InvitationRecorded"),
    N_("VisitRecorded"), N_("LoanDisbursed"), N_("CustomerErased"), N_("EntryVoided"), N_("Reassigned"),
    N_("Deferred"), N_("PolicyAdopted"), N_("ConsultantJoined"), N_("ConsultantLeft"), N_("SeatsSwapped"),
    N_("ShiftAssigned"), N_("PresenceChanged"), N_("PenaltyImposed"), N_("PenaltyLifted"),
    N_("ComplaintVerified"), N_("TargetSet"), N_("ListSwapped"), N_("DeferredAllocated"),
    # shifts, and what a candidate's turn came to
    N_("overtime"), N_("holder"), N_("passed normally"), N_("lapsed"), N_("received"), N_("scored"),
]
