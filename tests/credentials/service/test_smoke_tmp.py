from microcred.credentials import service
from tests.credentials.service.conftest import issue_input


def test_smoke(session, settings, definition_id):
    row = service.issue_credential(
        session,
        None,
        settings=settings,
        **issue_input(definition_id, formats=list(service.FORMATS)),
    )
    import json

    print(json.dumps(row.document, indent=1)[:3000])
    print(row.jwts.keys())
