"""Undo of the last change (app/services/undo.py) on the database in use: an edit, a delete, an import and a
move are taken back in one transaction with an audit row; an undo refuses, changing nothing, when an event
changed since, when it is too late, twice, or for someone else."""

from datetime import timedelta

import pytest

from app.errors import Conflict, Invalid
from app.models import Event, UndoStep
from app.models.base import utcnow
from app.services import audit, festivals, imports, timetable, undo
from tests.portal.test_schedule import _save, berlin, utc  # noqa: F401 - berlin is a fixture

SUMMER = utc(2026, 6, 12, 18)  # Fri 12 Jun 20:00 in Berlin


def _state(festival_id, actor) -> list[tuple]:
    """Every event of the festival as a person sees it: id, name, times, artists, stage."""
    return [
        (
            event["event_id"],
            event["event_name"],
            event["event_start"],
            event["event_end"],
            [artist["artist_name"] for artist in event["include"]["artist"]],
            timetable.stage_of(event),
        )
        for event in festivals.events_of(festival_id, actor)
    ]


def _edit(festival_id, event_id, actor, name, artists, stage):
    return timetable.save_event(
        festival_id, event_id, actor, {"event_name": name, "event_description": "Neu"}, artists, stage
    )


def test_an_edit_is_undone_with_its_fields_artists_and_stage_and_an_audit_row(factory, creator, berlin):  # noqa: F811
    actor, admin = factory.actor(creator), factory.actor(factory.user("admin"))
    event = timetable.save_event(
        berlin,
        None,
        actor,
        {
            "event_name": "Eröffnung",
            "event_description": "Mit dem Kreuzchor",
            "event_start": SUMMER,
            "event_end": SUMMER + 3600,
        },
        ["Dresdner Kreuzchor", "Jördis Müller"],
        "Hauptbühne am Blauen Wunder",
    )
    before = _state(berlin, actor)
    edited, step = undo.recorded(
        actor,
        berlin,
        "the edit of “Eröffnung”",
        lambda: _edit(berlin, event["event_id"], actor, "Eröffnung (neu)", ["Käthe Köhler"], "Zelt"),
    )
    assert edited["event_name"] == "Eröffnung (neu)" and step is not None
    assert _state(berlin, actor) != before

    assert undo.undo(berlin, step, actor) == "the edit of “Eröffnung”"
    assert _state(berlin, actor) == before
    assert Event.get_by_id(event["event_id"]).description == "Mit dem Kreuzchor"
    [row] = audit.in_words(admin, audit.list_entries(admin, audit.AuditFilter(entity="festival"), limit=1)[0])
    assert (row["what"], row["change"]) == ("festival “Spree”", "Undid the edit of “Eröffnung”")
    with pytest.raises(Invalid, match="nothing to undo"):  # once
        undo.undo(berlin, step, actor)


def test_a_deleted_event_comes_back_with_its_id_artists_and_stage(factory, creator, berlin):  # noqa: F811
    actor = factory.actor(creator)
    for number in range(3):
        timetable.save_event(
            berlin,
            None,
            actor,
            {
                "event_name": f"Set {number}: Großes Abschlusskonzert",
                "event_start": SUMMER + number * 3600,
                "event_end": SUMMER + number * 3600 + 3000,
            },
            [f"Bö {number}", "Jördis Müller-Lüdenscheidt"],
            "Waldbühne",
        )
    before = _state(berlin, actor)
    gone = before[1][0]
    _, step = undo.recorded(actor, berlin, "the delete of “Set 1”", lambda: festivals.delete_event(berlin, gone, actor))
    assert [row[0] for row in _state(berlin, actor)] == [before[0][0], before[2][0]]
    undo.undo(berlin, step, actor)
    assert _state(berlin, actor) == before


def test_an_import_is_undone_new_events_go_and_changed_ones_come_back(factory, creator, berlin):  # noqa: F811
    actor = factory.actor(creator)
    _save(berlin, creator, factory, "Lesung", SUMMER, SUMMER + 3600, "Zelt")
    before = _state(berlin, actor)
    text = (
        "name,day,start,end,stage,artists\n"
        "Lesung,2026-06-12,21:00,22:00,Zelt,Käthe Köhler\n"  # changed: another end and artists
        + "".join(f"Set {n},2026-06-13,{10 + n}:00,{10 + n}:45,Hauptbühne,Bö {n}\n" for n in range(8))
    )
    table = imports.read_csv(text)
    mapping = imports.guess_mapping(table.headers)
    plan = imports.preview(berlin, actor, table, mapping)
    assert plan.counts["new"] == 8 and plan.counts["changed"] == 1
    _, step = undo.recorded(
        actor, berlin, "the import", lambda: imports.confirm(berlin, actor, table, mapping, plan.digest)
    )
    assert len(_state(berlin, actor)) == 9
    undo.undo(berlin, step, actor)
    assert _state(berlin, actor) == before


def test_an_undo_refuses_when_an_event_changed_since_and_changes_nothing(factory, creator, berlin):  # noqa: F811
    actor = factory.actor(creator)
    event = _save(berlin, creator, factory, "Lesung", SUMMER, SUMMER + 3600, "Zelt")
    _, step = undo.recorded(
        actor,
        berlin,
        "the move of “Lesung”",
        lambda: timetable.move_event(berlin, event["event_id"], actor, SUMMER + 7200, "Hauptbühne"),
    )
    _edit(berlin, event["event_id"], actor, "Lesung mit Musik", [], "Hauptbühne")  # a later change
    after = _state(berlin, actor)
    with pytest.raises(Conflict, match="the move of “Lesung” cannot be undone: “Lesung” changed after it"):
        undo.undo(berlin, step, actor)
    assert _state(berlin, actor) == after


def test_an_undo_is_the_authors_own_and_only_for_a_while(factory, creator, berlin):  # noqa: F811
    actor = factory.actor(creator)
    event = _save(berlin, creator, factory, "Lesung", SUMMER, SUMMER + 3600, "Zelt")
    _, step = undo.recorded(
        actor, berlin, "the delete of “Lesung”", lambda: festivals.delete_event(berlin, event["event_id"], actor)
    )
    other = factory.actor(factory.user("creator"))
    with pytest.raises(Invalid, match="nothing to undo"):
        undo.undo(berlin, step, other)
    UndoStep.update(at=utcnow() - undo.WINDOW - timedelta(seconds=1)).where(UndoStep.id == step).execute()
    with pytest.raises(Invalid, match="too late to undo"):
        undo.undo(berlin, step, actor)
    assert _state(berlin, actor) == []


def test_a_change_that_changes_no_event_offers_nothing(factory, creator, berlin):  # noqa: F811
    actor = factory.actor(creator)
    assert undo.recorded(actor, berlin, "nothing", lambda: 42) == (42, None)
    assert UndoStep.select().count() == 0
