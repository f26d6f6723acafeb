"""Word pools the generated brokerage draws names, streets and towns from."""

from __future__ import annotations

FIRST_NAMES = (
    "Aaliyah", "Adrian", "Alma", "Andre", "Beatriz", "Bennett", "Camila", "Carter",
    "Chloe", "Darius", "Delia", "Desmond", "Elena", "Elliott", "Farah", "Felix",
    "Gemma", "Gideon", "Hana", "Hector", "Imani", "Isaac", "Jada", "Jasper",
    "Keiko", "Kendrick", "Leona", "Lucas", "Marisol", "Milo", "Nadia", "Nolan",
    "Olive", "Omar", "Priya", "Quentin", "Rosa", "Rowan", "Sana", "Silas",
    "Tamsin", "Theo", "Uma", "Victor", "Wren", "Xavier", "Yara", "Zane",
    "Bridget", "Corey", "Dana", "Evan", "Frances", "Grant", "Harper", "Ivy",
)  # fmt: skip

LAST_NAMES = (
    "Abernathy", "Alvarez", "Baptiste", "Brennan", "Castillo", "Chen", "Dalton",
    "Delgado", "Easton", "Farouk", "Fitzgerald", "Gallagher", "Haddad", "Holloway",
    "Ibarra", "Jansen", "Kowalski", "Lindqvist", "Mbeki", "McAllister", "Nakamura",
    "Novak", "Okafor", "O'Neill", "Petrov", "Quintero", "Ramsey", "Rossi",
    "Sandoval", "Schultz", "Takahashi", "Thornton", "Underwood", "Valdez",
    "Whitaker", "Wojcik", "Yamamoto", "Zielinski", "Barros", "Carmichael",
    "Dubois", "Ellison", "Forsythe", "Garrity", "Hendricks", "Iverson", "Kerr",
)  # fmt: skip

STREET_NAMES = (
    "Maple Ave", "Cedar Ln", "Harbor View Dr", "Willow Creek Rd", "Oak St",
    "Juniper Ct", "Summit Blvd", "Meadowbrook Way", "Lakeshore Dr", "Pine Ridge Rd",
    "Birchwood Pl", "Elm St", "Foxglove Ter", "Granite Pass", "Heron Point Cir",
    "Ironwood Dr", "Kingsbury St", "Larkspur Ln", "Magnolia Blvd", "North Fork Rd",
    "Orchard Hill Rd", "Prospect Ave", "Quarry Ln", "Riverbend Dr", "Sycamore St",
    "Tamarack Ct", "Union St", "Vista Del Mar", "Westgate Ave", "Yellowstone Way",
)  # fmt: skip

# (city, state, county, first three digits of the zip code)
TOWNS = (
    ("Evanston", "IL", "Cook", "602"),
    ("Oak Park", "IL", "Cook", "603"),
    ("Naperville", "IL", "DuPage", "605"),
    ("Wheaton", "IL", "DuPage", "601"),
    ("Schaumburg", "IL", "Cook", "601"),
    ("Aurora", "IL", "Kane", "605"),
    ("Joliet", "IL", "Will", "604"),
    ("Waukegan", "IL", "Lake", "600"),
    ("Kenosha", "WI", "Kenosha", "531"),
    ("Gary", "IN", "Lake", "464"),
    ("Valparaiso", "IN", "Porter", "463"),
    ("Highland Park", "IL", "Lake", "600"),
)

OFFICE_NAMES = (
    "Lakefront",
    "North Shore",
    "West Suburbs",
    "Fox Valley",
    "Southland",
)

BROKERAGES = (
    "Prairie Gate Realty",
    "Lantern Key Homes",
    "Blue Heron Real Estate",
    "Crossroads Property Group",
)

OTHER_BROKERAGES = (
    ("Keystone Crest Realty", "keystonecrest.example.net"),
    ("Open Door Partners", "opendoor-partners.example.net"),
    ("Harborline Homes", "harborline.example.net"),
    ("Summit & Vale", "summitvale.example.net"),
)

TITLE_COMPANIES = ("Lakeside Title Co.", "First Prairie Title", "Anchor Escrow")
LENDERS = ("Meridian Home Loans", "Northway Mortgage", "Third Coast Credit Union")
REFERRAL_SOURCES = (
    "Past client",
    "Relocation company",
    "Agent referral",
    "Open house",
    "Website lead",
    "",
)
PROPERTY_TYPES = ("Single Family", "Condo", "Townhouse", "Multi-Family", "Land")
