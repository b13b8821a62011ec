from typing import Any

from django.core import paginator
from rest_framework.pagination import PageNumberPagination


class Paginator(paginator.Paginator):
    """Django's, reading a page number in ASCII digits only: int() would read "\u0663" as 3
    (see rlplatform/fields.py)."""

    def validate_number(self, number: Any) -> int:
        if isinstance(number, str) and not number.isascii():
            raise paginator.PageNotAnInteger(self.error_messages["invalid_page"])
        return super().validate_number(number)


class PagePagination(PageNumberPagination):
    django_paginator_class = Paginator
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int | None:
        # A page size in other digits is ignored, as DRF ignores one that is not a number.
        if not request.query_params.get(self.page_size_query_param, "").isascii():
            return self.page_size
        return super().get_page_size(request)
