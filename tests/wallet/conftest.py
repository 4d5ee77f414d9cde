from tests.catalogue.factories import skills
from tests.pathways.conftest import defs

__all__ = ["defs", "skills"]
