"""The incident workflow's patches, and the one marker that stands for all of them.

Each change to the workflow that would alter an in-flight incident's history is guarded by
``workflow.patched(<id>)``, so that incidents recorded before it replay the old way. Every
new id costs an incident one marker event and one ``TemporalChangeVersion`` upsert (the SDK
writes it, a visibility write on the server), and a new incident would otherwise pay that
for each of them on its way to its first page.

An incident begun since ``BASELINE`` records that one marker instead: :func:`patched`
answers True for every id in ``SETTLED`` without recording anything more. An incident begun
before it has no such marker, so every call goes on to ``workflow.patched(<id>)`` exactly
as it always did, and its history replays unchanged.

A change made after the baseline must call ``workflow.patched`` with its own id, not this
function: an incident begun under the baseline has not run it, and must not be told it
has. A later release may settle such ids under a new baseline of its own.
"""

from __future__ import annotations

from temporalio import workflow

BASELINE = "patches-settled-2026-11"

# What each settled id guards; an incident recorded before it keeps the old way.
FEEDBACK = "feedback-requests"  # asking the responders for feedback once resolved
ARCHIVE = "timeline-archive"  # archiving the older timeline when continuing as new
SEARCHABLE = "flags-and-responders-search-attributes"  # those two search attributes
CHANGES = "upsert-changed-search-attributes"  # upserting only the attributes that changed
DELIVERY = "page-delivery-states"  # a page's delivery state, in two activity steps
STAND_DOWN = "stand-down-emails"  # telling the others paged they can stand down
LADDER = "sla-beside-ladder"  # an SLA timer waiting for the ladder's just after it
JOURNAL = "scenario-journal"  # the scenario's journal, carried when continuing as new

SETTLED = frozenset({FEEDBACK, ARCHIVE, SEARCHABLE, CHANGES, DELIVERY, STAND_DOWN, LADDER, JOURNAL})


def patched(patch_id: str) -> bool:
    """Whether this incident runs the change ``patch_id`` guards (one of ``SETTLED``).

    The SDK remembers each answer for the rest of the run, so the baseline is asked once:
    at the incident's first call, which every run makes in its first workflow task.
    """
    if patch_id not in SETTLED:
        raise ValueError(f"{patch_id!r} is not settled by {BASELINE}: call workflow.patched for it")
    return workflow.patched(BASELINE) or workflow.patched(patch_id)
