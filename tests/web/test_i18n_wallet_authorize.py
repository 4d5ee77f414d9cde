"""The page where a learner gives a credential to a wallet app (OpenID4VCI authorization) in
German, French and Spanish; the app's id and address stay as they are."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from tests.catalogue.factories import skills
from tests.conftest import sign_in_client
from tests.credentials.service.conftest import definition_id
from tests.wallet.test_oid4vci import credential_id
from tests.wallet.test_oid4vci_authorization import request_params

__all__ = ["credential_id", "definition_id", "skills"]


def test_the_wallet_authorization_page_in_german_french_and_spanish(
    client: TestClient, credential_id: str
) -> None:
    params = request_params(secrets.token_urlsafe(48))
    sign_in_client(client, "learner@example.org")

    def page(lang: str) -> str:
        answer = client.get("/oid4vci/authorize", params={**params, "lang": lang})
        assert answer.status_code == 200
        return answer.text

    german = page("de")
    assert "<h1>Einen Nachweis an eine Wallet-App geben?</h1>" in german
    assert (
        "Die Wallet-App <strong>a-wallet</strong> bittet um einen Ihrer Nachweise. Er wird an "
        "<code>wallet.example</code> gesendet."
    ) in german
    assert "<legend>Welcher Nachweis?</legend>" in german and ">Ablehnen</button>" in german
    french = page("fr")
    assert "<legend>Quelle attestation ?</legend>" in french
    assert ">La donner à l’application</button>" in french
    spanish = page("es")
    assert "<legend>¿Qué credencial?</legend>" in spanish and ">Rechazar</button>" in spanish
