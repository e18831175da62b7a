"""Lambda entry points: parse the event, call the service layer, return. No business logic here."""
