"""``Client.submit`` is ``create_job`` then ``start``: it must take exactly what ``create_job`` takes."""

from __future__ import annotations

import inspect

from hetero2_client import Client


def test_submit_takes_the_arguments_of_create_job() -> None:
    assert inspect.signature(Client.submit) == inspect.signature(Client.create_job)
    assert "source" in inspect.signature(Client.submit).parameters


def test_submit_documents_itself_under_its_own_name() -> None:
    assert (Client.submit.__name__, Client.submit.__qualname__) == ("submit", "Client.submit")
    assert Client.submit.__doc__ is not None
    assert "create_job" in Client.submit.__doc__
    assert "start" in Client.submit.__doc__
