"""The data bundle's attribution: shown wherever its data is shown (pages, API docs, exports)."""

ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025; "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025; "
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0; "
    "Contains public sector information licensed under the Open Government Licence v3.0; "
    "ward and LSOA GeoJSON packaged by Martin Chorley (CC-BY 4.0); food banks from Give Food."
)
