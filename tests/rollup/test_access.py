"""Who may open the roll-up area's pages: refused roles get 403, strangers the login page."""
import pytest

from tests.rollup.test_ledger import workbook

PAGES = {
    "/dashboard": {"admin": 200, "office": 200, "supervisor": 200, "unit_k1": 200},
    "/dashboard/print": {"admin": 200, "office": 200, "supervisor": 200, "unit_k1": 200},
    "/dashboard/data.json": {"admin": 200, "office": 200, "supervisor": 200, "unit_k1": 200},
    "/exports": {"admin": 200, "office": 200, "supervisor": 200, "unit_k1": 200},
    "/exports/problem-list": {"admin": 403, "office": 200, "supervisor": 403, "unit_k1": 403},
    "/exports/problem-list-template.xlsx": {"admin": 200, "office": 200, "supervisor": 200,
                                            "unit_k1": 200},
    "/exports/reconcile": {"admin": 403, "office": 200, "supervisor": 403, "unit_k1": 403},
    "/exports/units": {"admin": 200, "office": 403, "supervisor": 403, "unit_k1": 403},
    "/exports/units.xlsx": {"admin": 200, "office": 403, "supervisor": 403, "unit_k1": 403},
    "/exports/users.xlsx": {"admin": 200, "office": 403, "supervisor": 403, "unit_k1": 403},
    "/exports/handover": {"admin": 200, "office": 200, "supervisor": 403, "unit_k1": 403},
}


@pytest.mark.parametrize("path", sorted(PAGES))
@pytest.mark.parametrize("username", ["admin", "office", "supervisor", "unit_k1"])
def test_page_answers_each_role_as_the_table_says(world, login, path, username):
    response = login(username).get(path)
    response.close()
    assert response.status_code == PAGES[path][username]


@pytest.mark.parametrize("path", sorted(PAGES))
def test_page_sends_strangers_to_the_login(world, client, path):
    response = client.get(path)
    response.close()
    assert response.status_code in (302, 401)


def test_problem_list_of_an_inspection_outside_the_scope_is_not_found(world, login):
    from tracker.services.errors import NotFound  # noqa: F401  (documents the mapping)
    response = login("unit_k1").get("/exports/inspections/999999/problem-list.xlsx")
    response.close()
    assert response.status_code == 404


def test_office_downloads_its_inspections_problem_list(world, login):
    book = workbook(login("office").get(
        f"/exports/inspections/{world.inspection.id}/problem-list.xlsx"))
    values = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
    assert world.finding.title in values


def test_handover_page_hands_over_and_reports(world, login):
    from tests import factories
    from tracker.extensions import db
    from tracker.models import Role
    colleague = factories.user("k1_colleague", Role.UNIT_USER, world.k1)
    db.session.commit()
    response = login("admin").post("/exports/handover", data={
        "leaving": str(world.unit_k1.id), "colleague": str(colleague.id), "deactivate": "y"})
    assert response.status_code == 302
    response = login("admin").post("/exports/handover", data={
        "leaving": str(world.unit_k2.id), "colleague": str(colleague.id)})
    assert response.status_code == 422
