from tests.catalogue.factories import skills

__all__ = ["skills"]
