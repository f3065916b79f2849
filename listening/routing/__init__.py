"""Routing: rules turn analysed verbatims into tickets, an outbox notifies teams, alerts watch spikes."""
