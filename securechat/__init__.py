"""The securechat client core: profiles, encrypted store, conversations, consent, notes,
the relay client, the asyncio service and the headless CLI. No Qt here."""
