from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.filter
def paragraphs(text: str) -> str:
    """Docstring text as HTML paragraphs: blank lines part paragraphs, single line breaks are
    the source's wrapping and become spaces."""
    parts = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
    return format_html_join("", "<p>{}</p>", ((part,) for part in parts))
