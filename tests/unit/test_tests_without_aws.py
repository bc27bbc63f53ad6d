"""Which tests need AWS, and what happens to an AWS call with no moto (tests/conftest.py,
tests/support/aws.py): `make unit` runs the tests not marked `aws`, without moto."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import EndpointConnectionError
from botocore.httpsession import URLLib3Session

from local.testing import free_port
from tests import conftest
from tests.support.aws import REFUSED, AwsCallOutsideMoto, NoMotoFinder


class Item:
    """What the marking hook reads of a collected test: its fixture closure."""

    def __init__(self, *fixturenames: str) -> None:
        self.fixturenames = list(fixturenames)
        self.markers: list[str] = []

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        self.markers.append(mark.name)


def test_a_test_whose_fixtures_reach_mocked_aws_is_marked_aws() -> None:
    over_api = Item("api", "stack", "mocked_aws", "template", "request")
    pure = Item("wire", "link", "request")
    conftest.pytest_collection_modifyitems([over_api, pure])  # type: ignore[list-item]
    assert (over_api.markers, pure.markers) == (["aws"], [])


def send(url: str) -> None:
    URLLib3Session().send(AWSRequest("POST", url, data=b"{}").prepare())  # as botocore sends one


def test_an_aws_call_no_moto_answers_fails_at_once_and_is_kept_for_the_test() -> None:
    before = len(REFUSED)
    with pytest.raises(AwsCallOutsideMoto, match=r"POST dynamodb\.eu-west-1\.amazonaws\.com"):
        send("https://dynamodb.eu-west-1.amazonaws.com/")
    assert len(REFUSED) == before + 1
    del REFUSED[before:]  # this test's own refusal: the run's check would fail it


def test_a_call_to_a_moto_server_on_loopback_is_sent() -> None:
    with pytest.raises(EndpointConnectionError):  # sent: nobody listens there
        send(f"http://127.0.0.1:{free_port()}/")


def test_without_moto_no_module_of_it_can_be_imported() -> None:
    with pytest.raises(ImportError, match="WITHOUT_MOTO"):
        NoMotoFinder().find_spec("moto.dynamodb.models", None)
    assert NoMotoFinder().find_spec("motor", None) is None
