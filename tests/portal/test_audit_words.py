"""The audit log in words: what an entry is about by name, and what changed in field names and names, not ids."""

import re

from app.services import details, festivals, timetable, writes
from tests.identity.test_pages import client_for, log_in, text


def rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>") if "<td" in row]


def test_the_audit_log_names_things_and_says_what_changed(app, factory):
    admin, carla = factory.user("admin"), factory.user("creator", email="carla@example.org")
    dora = factory.user("creator", email="dora@example.org")
    actor = factory.actor(carla)
    festival = factory.create("festival", carla, name="Lakeside Sounds")["festival_id"]
    writes.update("festival", festival, actor, {"festival_price": "20 €", "festival_description": "By the lake"})
    details.add_tag("festival", festival, "jazz", actor)
    details.create_linked("festival", festival, "links", actor, {"link_url": "https://lake.example/"})
    timetable.save_event(festival, None, actor, {"event_name": "Opening"}, ["Ada Lux"], "Main stage")
    writes.transfer_owner("festival", festival, dora.id, factory.actor(admin))
    client = client_for(app)
    assert log_in(client, admin.email).status_code == 303

    log = rows(text(client.get("/admin/audit?entity=festival")))
    assert any("festival “Lakeside Sounds” Handed from carla@example.org to dora@example.org" in row for row in log)
    assert any(
        "carla@example.org festival “Lakeside Sounds” Added link “https://lake.example/” (new)" in row for row in log
    )
    assert any("festival “Lakeside Sounds” Added tag “jazz” (new)" in row for row in log)
    assert any("festival “Lakeside Sounds” Changed description, price" in row for row in log)
    assert any("festival “Lakeside Sounds” Created with published, name" in row for row in log), log
    event = rows(text(client.get("/admin/audit?entity=event")))
    assert any(
        "event “Opening” Created with name; artists: “Ada Lux”; location: “Main stage”; in festival “Lakeside Sounds”; "
        "new: artist “Ada Lux”, location “Main stage”" in row
        for row in event
    ), event


def test_stage_order_zone_change_and_import_are_said_in_words(app, factory):
    admin, carla = factory.user("admin"), factory.user("creator", email="carla@example.org")
    actor = factory.actor(carla)
    festival = factory.create("festival", carla, name="Elbhangfest", timezone="Europe/Berlin")["festival_id"]
    timetable.add_stage(festival, "Hauptbühne", actor)
    timetable.add_stage(festival, "Zelt am Elbufer", actor)
    timetable.update_festival(festival, actor, {"festival_timezone": "Europe/London"}, None, keep_local_times=True)
    client = client_for(app)
    assert log_in(client, admin.email).status_code == 303
    log = rows(text(client.get("/admin/audit?entity=festival")))
    assert any("festival “Elbhangfest” Stages in this order: “Hauptbühne”, “Zelt am Elbufer”" in row for row in log), (
        log
    )
    assert any("Time zone Europe/Berlin → Europe/London; the events kept their local times" in row for row in log), log


def test_deleted_things_shifted_events_and_keys_are_named_not_numbered(app, factory):
    from app.services import api_keys

    admin, carla = factory.user("admin"), factory.user("creator", email="carla@example.org")
    actor = factory.actor(carla)
    festival = factory.create("festival", carla, name="Elbhangfest", timezone="Europe/Berlin")["festival_id"]
    times = {"event_start": 1781287200, "event_end": 1781290800}
    event = timetable.save_event(festival, None, actor, {"event_name": "Großes Abschlusskonzert", **times}, [], "Zelt")
    timetable.shift_events(festival, [event["event_id"]], 15, actor)
    festivals.delete_event(festival, event["event_id"], actor)
    _, key = api_keys.create_key("The iOS app (TestFlight)")
    festivals.delete_festival(festival, actor)
    client = client_for(app)
    assert log_in(client, admin.email).status_code == 303
    log = rows(text(client.get("/admin/audit")))
    assert any("event “Großes Abschlusskonzert” Deleted" in line for line in log), log
    assert any("festival “Elbhangfest” Deleted" in line for line in log), log
    assert any("festival “Elbhangfest” Shifted 1 event by 15 minutes" in line for line in log), log
    assert any(f"api key “{key.prefix}…” Created; comment: The iOS app (TestFlight)" in line for line in log), log
    assert any(
        "event “Großes Abschlusskonzert” Created with end, name, start" in line and "in festival “Elbhangfest”" in line
        for line in log
    ), log  # older entries name them by what their delete recorded
