"""The callback form takes only numbers the spa can call, and says why it refuses the rest."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz import create_app
from quiz.settings import ConfigError
from tests.support.app import base_config, leads
from tests.support.patient import valid_callback


def send(client: FlaskClient, phone: str) -> str:
    response = client.post("/quiz/callback", data=valid_callback(client, phone=phone))
    return response.get_data(as_text=True) if response.status_code == 422 else ""


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("+1 900 555 0123", "That looks like a premium-rate number, which we can&#39;t call."),
        ("+44 909 879 0879", "That looks like a premium-rate number, which we can&#39;t call."),
        ("+33 810 12 34 56", "That looks like a shared-cost number, which we can&#39;t call."),
        ("+881 6 1234 5678", "We can&#39;t call satellite or international service numbers."),
        ("+44 20 7183 8750", "We can only call numbers in United States."),
        ("+1 604 555 1234", "We can only call numbers in United States."),  # Canada
    ],
)
def test_a_number_the_spa_should_not_call_is_refused_next_to_the_field(
    app: Flask, client: FlaskClient, phone: str, message: str
) -> None:
    page = send(client, phone)
    assert message in page
    assert 'id="phone-error"' in page and 'aria-invalid="true"' in page
    assert leads(app) == []


@pytest.mark.parametrize("phone", ["(301) 810-5740", "+1 800 555 0199", "301.810.5740"])
def test_local_and_toll_free_numbers_are_taken(app: Flask, client: FlaskClient, phone: str) -> None:
    assert (
        client.post("/quiz/callback", data=valid_callback(client, phone=phone)).status_code == 200
    )
    assert len(leads(app)) == 1


@pytest.mark.parametrize("app_config", [{"PHONE_ALLOWED_REGIONS": ["US", "CA"]}])
def test_the_spa_may_serve_several_regions(app: Flask, client: FlaskClient) -> None:
    data = valid_callback(client, phone="+1 604 555 1234")
    assert client.post("/quiz/callback", data=data).status_code == 200
    [lead] = leads(app)
    assert lead.phone == "+16045551234"
    page = send(client, "+44 20 7183 8750")
    assert "We can only call numbers in United States or Canada." in page


def test_an_unknown_region_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="PHONE_ALLOWED_REGIONS has 'XX'"):
        create_app(base_config("sqlite://", PHONE_ALLOWED_REGIONS=["US", "XX"]))
