"""Cursor pages for every list: stable under inserts, `?cursor=` to go on, `?limit=` up to 1,000."""

from rest_framework.pagination import CursorPagination

from waco.api.problems import Problem


class CursorPage(CursorPagination):
    """Ordered by the view's `ordering` (a string or a tuple, e.g. ("-updated_at", "-id")), else newest first."""

    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = "-id"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def get_page_size(self, request):
        # DRF quietly falls back to the default on a bad limit; an integrator should hear about it.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise Problem(
                422,
                "Validation failed",
                detail=f"limit must be a whole number from 1 to {self.max_page_size}.",
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
