"""Routers per capability; each module exposes ``routers``, a list of APIRouter."""

from __future__ import annotations

from fastapi import APIRouter

from microcred.web.routers import (
    accounts,
    assessment,
    catalogue,
    credentials,
    endorsements,
    home,
    issuance_settings,
    ledger,
    lti,
    mail_admin,
    market,
    members,
    notifications,
    obapi,
    oid4vci,
    outcomes,
    pathways,
    plans,
    presentations,
    profiles,
    sharing,
    skills,
    sso,
    talent,
    two_factor,
    verify_batch,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    router
    for module in (
        home,
        accounts,
        two_factor,
        sso,
        members,
        catalogue,
        credentials,
        issuance_settings,
        verify_batch,
        skills,
        ledger,
        market,
        assessment,
        pathways,
        plans,
        presentations,
        oid4vci,
        profiles,
        sharing,
        talent,
        outcomes,
        webhooks,
        endorsements,
        notifications,
        obapi,
        mail_admin,
        lti,
    )
    for router in module.routers
]
