"""IM and e-mail notifications: channels (DingTalk, WeCom, Feishu, Slack, SMTP), rules, the notice
outbox and its dispatcher, rendered from ``templates/notifiers/`` in the tenant's language.

Consumes domain events through :func:`notifiers.handlers.on_event` (subscribed on the kernel's bus
at start-up); imports only the kernel and ``tenants``. See docs/notifications.md.
"""
