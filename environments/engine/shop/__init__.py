"""Outfitters shop (`shop-v1`): consumer e-commerce with a faceted catalogue, product variants
and stock, a cart with conditional coupons, checkout, order tracking, returns and exchanges
within a return window, and reviews. Written with the authoring kit; see docs/environments.md."""

from .site import ShopSite

__all__ = ["ShopSite"]
