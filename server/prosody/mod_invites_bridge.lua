-- mod_invites_bridge: hands a VirtualHost's invite decisions to the invites
-- component (XEP-0114) and applies its answers. No state beyond the current
-- session, no policy: the component decides. Wire protocol: docs/bridge-protocol.md.
--
--   modules_enabled = { "register", "invites_bridge" }
--   allow_registration = true
--   invites_bridge_component = "invites.example.com"
--
-- A group's room goes into its members' bookmarks (XEP-0402) through mod_pep,
-- where the host loads it ("pep" in modules_enabled); the bridge never loads it.

local st = require "util.stanza";
local jid = require "util.jid";
local async = require "util.async";
local id = require "util.id";
local errors = require "util.error";
local nodeprep = require "util.encodings".stringprep.nodeprep;
local rostermanager = require "core.rostermanager";
local usermanager = require "core.usermanager";
local modulemanager = require "core.modulemanager";

local NS = "urn:xmpp-invites:bridge:0";
local NS_PARS = "urn:xmpp:pars:0";
local NS_PUBSUB = "http://jabber.org/protocol/pubsub";
local NS_BOOKMARKS = "urn:xmpp:bookmarks:1";

local host = module.host;
local component = module:get_option_string("invites_bridge_component");
local timeout = module:get_option_number("invites_bridge_timeout", 5);
local require_encryption = module:get_option_boolean("c2s_require_encryption",
	module:get_option_boolean("require_encryption", true));

if not component then
	module:log("error", "invites_bridge_component is not set: invite registration is refused");
end

local UNAVAILABLE = { type = "wait", condition = "service-unavailable",
	text = "The invite service is not answering; try again later" };

-- Replies to our own IQs, by id. module:send_iq is not used: it tracks at most
-- 256 IQs per module and fails the oldest beyond that, which under a burst of
-- registrations would refuse people for nothing.
local waiting = {};
module:hook("iq/host", function(event)
	local stanza = event.stanza;
	local t, handler = stanza.attr.type, waiting[stanza.attr.id];
	if handler and (t == "result" or t == "error") and jid.bare(stanza.attr.from) == component then
		waiting[stanza.attr.id] = nil;
		handler(stanza);
		return true;
	end
end, 10);

-- Send a request to the component; `on_reply(stanza or nil)` gets its answer,
-- or nil after `timeout` seconds.
local function request(kind, attrs, on_reply)
	attrs.xmlns = NS;
	local iq_id = id.short();
	local timer = module:add_timer(timeout, function()
		if waiting[iq_id] then waiting[iq_id] = nil; on_reply(nil); end
	end);
	waiting[iq_id] = function(stanza) timer:stop(); on_reply(stanza); end;
	module:send(st.iq({ type = kind == "token" and "get" or "set", from = host, to = component, id = iq_id })
		:tag(kind, attrs):up());
end

-- Ask and wait (inside a client's thread): the reply element, or nil and the
-- error to show. The component's own refusals (marked <refused/>) pass through;
-- anything else (no answer in time, a bounce while it is offline) means unreachable.
local function call(kind, attrs)
	if not component then return nil, UNAVAILABLE; end
	local wait, done = async.waiter();
	local reply;
	request(kind, attrs, function(stanza) reply = stanza; done(); end);
	wait();
	if reply and reply.attr.type == "result" then
		return reply:get_child(kind, NS) or st.stanza(kind, { xmlns = NS });
	end
	if reply then
		local err = errors.from_stanza(reply);
		local extra = err.extra and err.extra.tag;
		if extra and extra.attr.xmlns == NS then
			return nil, { type = err.type, condition = err.condition, text = err.text };
		end
	end
	module:log("warn", "invite component %s did not answer %s: %s", component, kind,
		reply and select(2, reply:get_error()) or "timeout");
	return nil, UNAVAILABLE;
end

-- Tell without waiting; a failure is only logged (the component settles what it never heard).
local function notify(kind, attrs, what)
	if not component then return; end
	request(kind, attrs, function(stanza)
		if not stanza or stanza.attr.type ~= "result" then
			module:log("warn", "invite component %s: %s not confirmed (%s)", component, what,
				stanza and select(2, stanza:get_error()) or "timeout");
		end
	end);
end

-- Give a reserved use back (outside a thread, or nothing to decide).
local function release(session)
	local reservation = session.invites_reservation;
	if not reservation then return; end
	session.invites_reservation = nil;
	notify("release", { reservation = reservation }, "release");
end

-- Stream features: tell unauthenticated clients that tokens are accepted.
module:hook("stream-features", function(event)
	local session = event.origin;
	if session.type ~= "c2s_unauthed" or (require_encryption and not session.secure) then return; end
	event.features:tag("register", { xmlns = "urn:xmpp:ibr-token:0" }):up();
	event.features:tag("register", { xmlns = "urn:xmpp:invite" }):up();
end);

-- XEP-0445 / XEP-0401: the client presents its token before registering.
-- Of either type, as Prosody's own mod_invites_register takes it: today's
-- Conversations, Cheogram and Snikket send `get`, older ones and Siskin `set`.
module:hook("stanza/iq/" .. NS_PARS .. ":preauth", function(event)
	local session, stanza = event.origin, event.stanza;
	local kind = stanza.attr.type;
	if kind ~= "get" and kind ~= "set" then return; end -- a stray result or error: nothing to answer
	local token = stanza.tags[1].attr.token;
	if not token or token == "" then
		session.send(st.error_reply(stanza, "modify", "bad-request", "A preauth element with a token is required"));
		return true;
	end
	-- Where it comes from, so the component can limit guessing per stream and per address.
	local answer, err = call("token", { token = token, stream = session.streamid, ip = session.ip });
	if not answer then
		session.send(st.error_reply(stanza, err.type, err.condition, err.text));
		return true;
	end
	session.invites_token = token;
	session.send(st.reply(stanza));
	return true;
end);

-- Roles, as each Prosody keeps them: 13 gives an account one primary role and
-- secondary ones (the first named is the primary); 0.12 a set of role names.
local function grant_roles(username, roles)
	if #roles == 0 then return true; end
	if usermanager.set_user_role then
		-- 13 raises an error for a role it does not know.
		local ok, role = pcall(usermanager.set_user_role, username, host, roles[1]);
		if not ok or not role then return nil, tostring(role or "role not set"); end
		for i = 2, #roles do
			local added, err = pcall(usermanager.add_user_secondary_role, username, host, roles[i]);
			if not added or not err then return nil, tostring(err or "secondary role not set"); end
		end
		return true;
	end
	local user_jid = jid.join(username, host);
	local set = {};
	for name in pairs(usermanager.get_roles(user_jid, host) or {}) do set[name] = true; end
	for _, name in ipairs(roles) do set[name] = true; end
	return usermanager.set_roles(user_jid, host, set);
end

local function split_roles(list)
	local roles = {};
	for name in (list or ""):gmatch("%S+") do roles[#roles + 1] = name; end
	return roles;
end

-- Whether the server counts this account as one of its administrators.
local function is_admin(username)
	if usermanager.get_user_role then
		local role = usermanager.get_user_role(username, host);
		return role ~= nil and (role.name == "prosody:admin" or role.name == "prosody:operator");
	end
	return usermanager.is_admin(jid.join(username, host), host) and true or false;
end

-- Refuse an in-band registration with the component's words (or "try again later").
local function refuse_registration(event, err)
	event.allowed = false;
	event.error = err;
	-- Older readers (e.g. mod_register_web) look at these fields.
	event.reason, event.error_type, event.error_condition = err.text, err.type, err.condition;
end

-- Registration: the component reserves one use of the token for this username
-- (or says whether a token-less registration is allowed). Runs after the other
-- policy modules (blocklists, throttles), so a refused attempt holds no use.
module:hook("user-registering", function(event)
	if not event.allowed then return; end
	local session = event.session;
	local token = session and session.invites_token;
	if session then release(session); end -- an earlier attempt on this stream that failed
	local answer, err = call("register", {
		username = event.username,
		token = token,
		exists = usermanager.user_exists(event.username, host) and "true" or "false",
	});
	if not answer then return refuse_registration(event, err); end
	local reservation = answer.attr.reservation;
	if token and not reservation then
		-- A token was given but nothing reserved: never let that through.
		module:log("error", "invite component %s answered register without a reservation", component);
		return refuse_registration(event, UNAVAILABLE);
	end
	if session then
		session.invites_reservation = reservation;
		session.invites_roles = split_roles(answer.attr.roles);
	end
	if answer.attr.reset == "true" then event.allow_reset = event.username; end
end, -100);

local function commit(event)
	local session = event.session;
	local reservation = session and session.invites_reservation;
	if not reservation then return; end
	local token, roles = session.invites_token, session.invites_roles or {};
	session.invites_reservation, session.invites_token, session.invites_roles = nil, nil, nil;
	-- Before the client can log in (it has its answer, but this runs first), as
	-- Prosody's own invites grant them at user-registered.
	if #roles > 0 then
		local ok, err = grant_roles(event.username, roles);
		if not ok then
			module:log("error", "could not give %s the roles %s of its invite: %s",
				jid.join(event.username, host), table.concat(roles, " "), err);
		end
	end
	-- Not waited for: the account exists and the client has its answer. The token
	-- goes too, so a component that lost the reservation still records the use;
	-- one that never hears of it settles its hold by asking "account" below.
	notify("commit", { reservation = reservation, token = token, jid = jid.join(event.username, host) },
		"use by " .. jid.join(event.username, host));
end
module:hook("user-registered", commit);
module:hook("user-password-reset", commit);

-- The account was never created (e.g. someone else took the name meanwhile)
-- and the client closes its stream. (A dropped TCP connection skips this
-- event: the component then releases the use after its reservation timeout.)
module:hook("pre-session-close", function(event)
	release(event.session);
end);

-- XEP-0050 at the domain: apps find their "invite" button in the server's command list
-- (Conversations and Gajim keep each item's jid and run the command there; Monal takes only
-- items at the domain itself). Our command is the component's; listed for local users.
module:hook("host-disco-items-node", function(event)
	local origin = event.origin;
	if event.node ~= "http://jabber.org/protocol/commands" or not component then return; end
	if origin.type ~= "c2s" or origin.host ~= host then return; end
	event.reply:tag("item", { jid = component, node = "urn:xmpp:invite#invite", name = "Create new contact invite" }):up();
	event.exists = true;
end);

-- XEP-0379: a subscription request carrying a token the component approves is
-- accepted at once, and a subscription back is requested.
local function preauthenticated_subscription(event)
	local stanza = event.stanza;
	if stanza.attr.type ~= "subscribe" then return; end
	local preauth = stanza:get_child("preauth", NS_PARS);
	if not preauth then return; end
	local token = preauth.attr.token;
	-- The token goes no further, approved or not: the request that reaches the user,
	-- and the copy Prosody stores to deliver later, carry no <preauth/>.
	stanza:remove_children("preauth", NS_PARS);
	if not token then return; end
	-- Stanzas from components and internal senders do not run in a thread we can wait in.
	if not async.ready() then return; end
	local username = jid.node(stanza.attr.to);
	local contact = jid.bare(stanza.attr.from);
	if not username or not contact or not usermanager.user_exists(username, host) then return; end
	-- Nothing to approve: the token is not spent on a contact who already has it.
	if rostermanager.is_contact_subscribed(username, host, contact) then return; end

	local answer = call("subscription", { token = token, user = jid.join(username, host), contact = contact });
	if not answer then return; end -- not approved: the request goes on to the user as usual

	if rostermanager.set_contact_pending_in(username, host, contact, stanza)
	and rostermanager.subscribed(username, host, contact) then
		rostermanager.roster_push(username, host, contact);
		if not rostermanager.is_user_subscribed(username, host, contact)
		and not rostermanager.is_contact_pending_out(username, host, contact)
		and rostermanager.set_contact_pending_out(username, host, contact) then
			rostermanager.roster_push(username, host, contact);
			module:send(st.presence({ type = "subscribe", from = jid.join(username, host), to = contact }));
		end
	end
	-- mod_presence now sees the contact subscribed: it answers "subscribed" and sends presence.
end
module:hook("presence/bare", preauthenticated_subscription, 1);
-- A request to a full JID is handled (and stored) by mod_presence as one to the bare JID.
module:hook("presence/full", preauthenticated_subscription, 1);

-- The component asks for two local users to become mutual contacts
-- (account+contact invites, on any registration path).
local function follow(user, contact)
	local user_jid, contact_jid = jid.join(user, host), jid.join(contact, host);
	rostermanager.set_contact_pending_out(user, host, contact_jid);
	rostermanager.set_contact_pending_in(contact, host, user_jid);
	rostermanager.subscribed(contact, host, user_jid);
	rostermanager.process_inbound_subscription_approval(user, host, contact_jid);
end

-- Requests from the component only; anyone else is refused.
local function component_only(handler)
	return function(event)
		local stanza = event.stanza;
		if jid.bare(stanza.attr.from) ~= component then
			event.origin.send(st.error_reply(stanza, "auth", "forbidden", "Only the invite component may ask this"));
			return true;
		end
		return handler(stanza, event.origin);
	end;
end

-- A roster group (a group's name) added to the groups `user` already gave `contact`.
local function add_group(user, contact, group)
	local contact_jid = jid.join(contact, host);
	local roster = rostermanager.load_roster(user, host);
	local item = roster and roster[contact_jid];
	if not item then return nil, "no roster item"; end
	item.groups = item.groups or {};
	if item.groups[group] then return true; end
	item.groups[group] = true;
	return rostermanager.save_roster(user, host, roster, contact_jid);
end

-- Longest roster group name taken (in bytes): a name, not a document.
local MAX_GROUP = 1023;

module:hook("iq-set/host/" .. NS .. ":befriend", component_only(function(stanza, origin)
	local req = stanza.tags[1];
	local a_node, a_host = jid.split(req.attr.a);
	local b_node, b_host = jid.split(req.attr.b);
	local group = req.attr.group;
	if not a_node or not b_node or a_host ~= host or b_host ~= host or a_node == b_node then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "a and b must be two local users"));
		return true;
	end
	if group and (not group:find("%S") or #group > MAX_GROUP) then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "group must be a roster group name (not blank, at most 1023 bytes)"));
		return true;
	end
	if not usermanager.user_exists(a_node, host) or not usermanager.user_exists(b_node, host) then
		origin.send(st.error_reply(stanza, "cancel", "item-not-found", "No such user"));
		return true;
	end
	follow(a_node, b_node);
	follow(b_node, a_node);
	if group then
		for _, pair in ipairs({ { a_node, b_node }, { b_node, a_node } }) do
			local ok, err = add_group(pair[1], pair[2], group);
			if not ok then
				module:log("error", "could not put %s in the roster group of %s: %s", jid.join(pair[2], host), jid.join(pair[1], host), tostring(err));
				origin.send(st.error_reply(stanza, "wait", "internal-server-error", "The roster could not be saved"));
				return true;
			end
		end
	end
	rostermanager.roster_push(a_node, host, jid.join(b_node, host));
	rostermanager.roster_push(b_node, host, jid.join(a_node, host));
	origin.send(st.reply(stanza));
	return true;
end));

-- The component asks for a chat room in an account's bookmarks (XEP-0402: a
-- conference item in the account's own PEP node urn:xmpp:bookmarks:1, with the
-- node configuration the XEP asks for), through mod_pep's per-account service
-- (get_pep_service: 0.12 and 13 alike). A bookmark of that room the account
-- already has is left as it is (its nick, its autojoin: the person's choice).
local function bookmark_options()
	-- A fresh table each time: a node created on publish keeps it as its config.
	return { persist_items = true; max_items = "max"; send_last_published_item = "never"; access_model = "whitelist" };
end

-- util.pubsub's errors: a string, or (0.12's precondition failure) an error object.
local function pubsub_condition(err)
	if type(err) == "table" then return err.pubsub_condition or err.condition or tostring(err.text); end
	return tostring(err);
end

module:hook("iq-set/host/" .. NS .. ":bookmark", component_only(function(stanza, origin)
	local req = stanza.tags[1];
	local node, node_host, node_res = jid.split(req.attr.jid);
	local room = req.attr.room and jid.prep(req.attr.room);
	local room_node, _, room_res = jid.split(room);
	local name = req.attr.name;
	if not node or node_host ~= host or node_res or not room_node or room_res then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "jid must be a local user and room a bare JID"));
		return true;
	end
	if not usermanager.user_exists(node, host) then
		origin.send(st.error_reply(stanza, "cancel", "item-not-found", "No such user"));
		return true;
	end
	-- Only where mod_pep is loaded already: the bridge does not load it on a host that does without.
	local pep = modulemanager.get_module(host, "pep");
	local get_pep_service = pep and pep.get_pep_service;
	if type(get_pep_service) ~= "function" then
		origin.send(st.error_reply(stanza, "cancel", "feature-not-implemented", "mod_pep is not loaded on this host"));
		return true;
	end
	local user_jid = jid.join(node, host);
	local service = get_pep_service(node);
	local has, items = service:get_items(NS_BOOKMARKS, user_jid, { room });
	if has and items[room] then
		origin.send(st.reply(stanza):tag("bookmark", { xmlns = NS, existed = "true" }));
		return true;
	end
	local item = st.stanza("item", { xmlns = NS_PUBSUB, id = room })
		:tag("conference", { xmlns = NS_BOOKMARKS, autojoin = "true", name = name ~= "" and name or nil }):up();
	local ok, err = service:publish(NS_BOOKMARKS, user_jid, room, item, bookmark_options());
	if not ok then
		local why = pubsub_condition(err);
		module:log("warn", "could not bookmark %s for %s: %s", room, user_jid, why);
		if why == "precondition-not-met" or why == "conflict" then
			origin.send(st.error_reply(stanza, "cancel", "conflict",
				"The account's bookmarks node (" .. NS_BOOKMARKS .. ") has another configuration than XEP-0402's"));
		else
			origin.send(st.error_reply(stanza, "wait", "internal-server-error", "The bookmark could not be published: " .. why));
		end
		return true;
	end
	origin.send(st.reply(stanza):tag("bookmark", { xmlns = NS, existed = "false" }));
	return true;
end));

-- The component asks whether an account exists: it settles a use it holds for a
-- registration whose outcome it never heard (a lost commit, a restart).
module:hook("iq-get/host/" .. NS .. ":account", component_only(function(stanza, origin)
	local node, node_host = jid.split(stanza.tags[1].attr.jid);
	if not node or node_host ~= host then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "jid must be a local user"));
		return true;
	end
	local exists = usermanager.user_exists(node, host);
	origin.send(st.reply(stanza):tag("account", { xmlns = NS,
		exists = exists and "true" or "false", admin = exists and is_admin(node) and "true" or "false" }));
	return true;
end));

-- The component asks how this server writes a username (nodeprep, strict as
-- mod_register_ibr's), so that an invite bound to it is compared exactly.
module:hook("iq-get/host/" .. NS .. ":nodeprep", component_only(function(stanza, origin)
	local name = stanza.tags[1].attr.username;
	local prepped = name and nodeprep(name, true);
	if not prepped or prepped == "" then
		origin.send(st.error_reply(stanza, "modify", "not-acceptable", "Not a valid username on this server"));
		return true;
	end
	origin.send(st.reply(stanza):tag("nodeprep", { xmlns = NS, username = prepped }));
	return true;
end));

-- The component gives an existing account the roles of the invite it was made
-- with (registrations the bridge did not see: the web form's XEP-0133 add-user).
module:hook("iq-set/host/" .. NS .. ":grant", component_only(function(stanza, origin)
	local req = stanza.tags[1];
	local node, node_host = jid.split(req.attr.jid);
	local roles = split_roles(req.attr.roles);
	if not node or node_host ~= host or #roles == 0 then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "jid must be a local user and roles not empty"));
		return true;
	end
	if not usermanager.user_exists(node, host) then
		origin.send(st.error_reply(stanza, "cancel", "item-not-found", "No such user"));
		return true;
	end
	local ok, err = grant_roles(node, roles);
	if not ok then
		origin.send(st.error_reply(stanza, "cancel", "not-allowed", "The server refused the roles: " .. tostring(err)));
		return true;
	end
	origin.send(st.reply(stanza));
	return true;
end));

-- The component asks which server this is: it picks how to talk to it, and `doctor` reports it.
module:hook("iq-get/host/" .. NS .. ":info", component_only(function(stanza, origin)
	origin.send(st.reply(stanza):tag("info", { xmlns = NS, server = "prosody", version = prosody.version or "unknown" }));
	return true;
end));
