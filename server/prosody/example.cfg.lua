-- What to add to a real Prosody (0.12 or 13) config for xmpp-invites. Replace
-- example.com, the secret and the paths; restart Prosody after editing.

-- Where mod_invites_bridge.lua lives (this directory of the project).
plugin_paths = { "/opt/xmpp-invites/server/prosody" }

-- The bot may run XEP-0133 admin commands (the web registration form uses them).
admins = { "invitebot@example.com" }

VirtualHost "example.com"
    modules_enabled = {
        "register";        -- in-band registration (XEP-0077), which the bridge gates
        "invites_bridge";  -- tokens at registration, XEP-0379 auto-approval
    }
    -- Registration is open at the protocol level; the bridge refuses every attempt the
    -- component does not allow (REGISTRATION_INVITE_ONLY, default true: tokens only).
    allow_registration = true
    invites_bridge_component = "invites.example.com"
    -- invites_bridge_timeout = 5  -- seconds to wait for the component before refusing

    -- Do NOT also load Prosody's own mod_invites_register / mod_invites / mod_invites_adhoc:
    -- they would accept or spend tokens of their own store beside ours (the bridge lists
    -- the component's "Create new contact invite" among the domain's commands instead;
    -- keep "adhoc", which "admin_adhoc" loads, so apps see the domain has commands).

-- The component the service connects as (COMPONENT_DOMAIN, COMPONENT_SECRET).
Component "invites.example.com"
    component_secret = "a long random secret, the same as COMPONENT_SECRET"

-- The component port: keep it on loopback when the service runs on the same machine.
component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }
