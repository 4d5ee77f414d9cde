from tests.catalogue.factories import _skills_service_until_it_lands, skills

__all__ = ["_skills_service_until_it_lands", "skills"]
