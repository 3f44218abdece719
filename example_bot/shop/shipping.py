"""Shipping zones, prices and carriers, as stated in knowledge/policies.md ("Shipping")."""

from __future__ import annotations

from dataclasses import dataclass

EUROPE_COUNTRIES = (
    "United Kingdom",
    "Ireland",
    "Germany",
    "France",
    "Netherlands",
    "Belgium",
    "Spain",
    "Italy",
    "Austria",
    "Sweden",
    "Denmark",
)


@dataclass(frozen=True)
class ShippingRate:
    """Price and typical transit time of one shipping method in one zone."""

    method: str
    carrier: str
    price_cents: int
    free_from_cents: int | None
    transit_days: int  # calendar days used for estimated delivery dates

    def cost_for(self, subtotal_cents: int) -> int:
        """The shipping charge for an order subtotal."""
        if self.free_from_cents is not None and subtotal_cents >= self.free_from_cents:
            return 0
        return self.price_cents


US_STANDARD = ShippingRate("Standard", "UPS", 499, 5000, 5)
US_EXPRESS = ShippingRate("Express", "UPS", 1499, None, 2)
CANADA_STANDARD = ShippingRate("Standard", "DHL Express", 1299, 15000, 8)
EUROPE_STANDARD = ShippingRate("Standard", "DHL Express", 1999, None, 12)


def shipping_rate(country: str, express: bool = False) -> ShippingRate:
    """The rate for a delivery country; raises ValueError for countries we do not ship to."""
    if country == "United States":
        return US_EXPRESS if express else US_STANDARD
    if express:
        raise ValueError("Express shipping is only available within the United States")
    if country == "Canada":
        return CANADA_STANDARD
    if country in EUROPE_COUNTRIES:
        return EUROPE_STANDARD
    raise ValueError(f"We do not ship to {country}")
