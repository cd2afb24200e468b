"""The rule families, one module each; every module's handlers take (state, rec) and change the
state in place (`projections.fold` calls them in history order).

    identity         R-ID-1 links, R-ID-3 tracking; which customer a lead belongs to
    periods          PolicyAdopted, §10 zone changes, week and month starts
    roster           R-RO-*, R-RT-5: joins, leaves, seat swaps, the seat and ranking orders
    presence_shifts  R-PR-*, R-SH-1..5: presence, shift holders, the shift route of a lead
    eligibility      R-RT-2 steps 1-3, R-PR-2/3, the R-FU-3 hold
    rotation         R-OW-4, R-RT-2/4/6/7/8/9: route_for, the queues, counts, a route's effects
    ownership        §7 R-OW-0..8: a lead's owner, deferred allocation, claims, rulings
    sanctions        R-SA-*: penalties, lifts, complaints, weekly metrics and sanctions
    followups        R-FU-1..5: deadlines and reassignment, list swap, follow-ups, grades
    money            R-MO-*: contract credit, revenue, targets, the live contract of R-OW-1
    timeline         the customer timeline (R-OW-6) every rule writes to

Rule modules import each other as modules (`from . import rotation`) and call
`rotation.route_for(...)` at call time, so any import order works.

Decisions taken where the rulebook is silent (a supervisor's reading):

- Weekly metrics (R-SA-4/7/8): `contracts` and `deals` both count every `ContractSigned`
  credited to the consultant (a split contract counts for both halves), deposits included;
  cancellations later do not un-count it. `invitations` = `InvitationRecorded`, `visits` =
  `VisitRecorded`, by their `consultant`. An event counts in the window holding its `at`.
- Revenue (R-MO-2) = payments - refunds; loan disbursements and cancellations are not revenue.
- `owner LEAD` reports the rule of the lead's own decision while that decision still stands
  (a duplicate kept by P answers R-OW-3), and the rule of the later change otherwise.
- Counts (R-RT-7) are filed under the lead's own channel; a `customer_referral` lead not given
  to the referrer's owner is allocated by the `walk_in` queue (R-OW-1b; no shift rules, as
  `customer_referral` is no shift channel) but counted as `customer_referral`. R-OW-1b applies
  only to a customer nobody tracks (R-ID-3): a tracked customer's referral is an R-OW-3 duplicate.
- §10: a later adoption with another `timezone` moves the coming week and month starts to the
  new zone (one the new zone has already passed starts at the adoption); a week or month is
  never started twice. Dates already decided (counts, deadlines) keep the zone of their time.
- A reach that a skip (R-SA-2) passes still counts as a reach for a throttle (R-SA-3): reaches
  count whenever step 1 let the consultant through. A skip naming several channels has one
  shared count.
- A lapsed bonus second lead (R-RT-4) uses no skip and counts no throttle reach.
- A consultant who has left neither tracks customers (R-ID-3, so a duplicate of their customer
  is allocated as new), nor is returned to by R-OW-1/R-OW-1b, nor owns a naming (R-OW-2).
- A takeover (R-OW-3 new_wins, R-OW-3b, R-OW-3c) whose allocation would be deferred or unowned
  leaves the customer with P (rule R-OW-3).
- A deferred lead whose customer got an owner after its arrival and before 09:01 (another
  lead allocated meanwhile) joins that owner (R-OW-3; R-OW-0 under a ruling) and consumes no
  turn; otherwise it is allocated as new. Its follow-up deadline is the end of the allocation
  day.
- R-FU-2 fires once per lead; when several leads of one customer fall due at the same
  instant, the customer moves once. Unowned leads are not reassigned.
- R-FU-4 releases customers that have an owner, no live contract, no ruling, and are
  untracked; the deal walks the seat order of consultants who have not left.
- R-OW-8: a lead taken by someone other than its derived owner is disputed; R-SA-5 applies when
  the R-SH-2 holder was on post and someone else took the lead. For a deferred lead the taker
  is compared with the owner at allocation.
- R-FU-5: a confirmed grade's next follow-up is due at the end of the local day `cadence`
  days after the current owner's own last follow-up (or the confirmation, if none since);
  `Customer.followed` keeps each consultant's latest, `queries.followups` reads it.
- R-RT-8 weight: a marketing lead counts as converted when its customer signed a contract at or
  after the lead's arrival.
- A claim that disagreed with the derived owner when it was made keeps the customer disputed
  until a ruling, even if the owner later becomes the claimant (R-OW-7).
- A stored seat swap that a late event made non-adjacent is ignored on replay (imports reject
  non-adjacent swaps up front; `check_swap` is the R-RO-2 check they share).
- Overtime (R-SH-4) and shift holders (R-SH-2) are not subject to skips or throttles either.
- Weighted marketing (R-RT-8) treats `busy_new` as eligible (R-RT-2 step 1 lets it through).
- CustomersLinked merges the two leads' customers (their phone identities too);
  CustomersUnlinked removes an explicit link, or splits the later lead into a customer of its
  own when the two matched by number. Either re-folds the history so far (R-ID-1).
"""
