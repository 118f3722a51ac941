%% mod_invites_bridge: ejabberd's side of the invite service's bridge protocol
%% (docs/bridge-protocol.md), the twin of server/prosody/mod_invites_bridge.lua.
%%
%% The bridge keeps no state beyond the client stream and makes no decisions: it
%% forwards what it sees to the component (the invite service) and applies the
%% answer. Loaded on a host with
%%
%%   modules:
%%     mod_invites_bridge:
%%       component: "invites.example.com"
%%
%% and server/ejabberd/ebin on the code path. No ejabberd record is used: stanzas
%% are built as XML and decoded by the running server's own xmpp library, so one
%% build serves ejabberd 23.01 and 24.12, whose libraries differ.
-module(mod_invites_bridge).
-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1, mod_options/1, mod_doc/0]).
-export([pre_auth_features/2, unauthenticated_packet/2, in_subscription/2, process_iq/1, decode_iq_subel/1,
         component_send_packet/1, adhoc_local_items/4]).

-include("logger.hrl").

-define(NS, <<"urn:xmpp-invites:bridge:0">>).
-define(NS_PARS, <<"urn:xmpp:pars:0">>).
-define(NS_IBR_TOKEN, <<"urn:xmpp:ibr-token:0">>).
-define(NS_INVITE, <<"urn:xmpp:invite">>).
-define(NS_REGISTER, <<"jabber:iq:register">>).
-define(NS_ROSTER, <<"jabber:iq:roster">>).
-define(NS_PUBSUB, <<"http://jabber.org/protocol/pubsub">>).
-define(NS_BOOKMARKS, <<"urn:xmpp:bookmarks:1">>).
-define(NS_DATA, <<"jabber:x:data">>).
-define(NS_CLIENT, <<"jabber:client">>).
-define(NS_STANZAS, <<"urn:ietf:params:xml:ns:xmpp-stanzas">>).
-define(UNREACHABLE, <<"The invite service is not answering; try again later">>).

%% The one record used: fast_xml's element, unchanged for a decade.
-record(xmlel, {name = <<>> :: binary(), attrs = [] :: [{binary(), binary()}], children = [] :: list()}).
%% xmpp's, the same in 23.01's p1_xmpp 1.6 and 24.12's 1.9.
-record(disco_item, {jid, name = <<>> :: binary(), node = <<>> :: binary()}).

%%% gen_mod

start(Host, _Opts) ->
    component(Host) == undefined andalso
        ?ERROR_MSG("mod_invites_bridge on ~ts: no component option: every registration is refused", [Host]),
    ejabberd_hooks:add(c2s_pre_auth_features, Host, ?MODULE, pre_auth_features, 50),
    %% Before mod_register (50): a registration is decided here first.
    ejabberd_hooks:add(c2s_unauthenticated_packet, Host, ?MODULE, unauthenticated_packet, 40),
    %% After ejabberd_sm's check that the user exists (20), before mod_roster (50).
    ejabberd_hooks:add(roster_in_subscription, Host, ?MODULE, in_subscription, 30),
    ejabberd_hooks:add(adhoc_local_items, Host, ?MODULE, adhoc_local_items, 60),
    gen_iq_handler:add_iq_handler(ejabberd_local, Host, ?NS, ?MODULE, process_iq),
    %% Before mod_privilege (50), which on 24.x drops every IQ a component sends to a
    %% bare JID of a host that loads it, unless wrapped per XEP-0356: ours are not.
    ejabberd_hooks:add(component_send_packet, ?MODULE, component_send_packet, 10),
    ?INFO_MSG("mod_invites_bridge on ~ts: component ~ts", [Host, component(Host) == undefined orelse component(Host)]),
    ok.

stop(Host) ->
    ejabberd_hooks:delete(c2s_pre_auth_features, Host, ?MODULE, pre_auth_features, 50),
    ejabberd_hooks:delete(c2s_unauthenticated_packet, Host, ?MODULE, unauthenticated_packet, 40),
    ejabberd_hooks:delete(roster_in_subscription, Host, ?MODULE, in_subscription, 30),
    ejabberd_hooks:delete(adhoc_local_items, Host, ?MODULE, adhoc_local_items, 60),
    gen_iq_handler:remove_iq_handler(ejabberd_local, Host, ?NS),
    gen_mod:is_loaded_elsewhere(Host, ?MODULE) orelse
        ejabberd_hooks:delete(component_send_packet, ?MODULE, component_send_packet, 10),
    ok.

reload(_Host, _NewOpts, _OldOpts) -> ok.

depends(_Host, _Opts) -> [{mod_roster, hard}].

mod_opt_type(component) -> econf:domain();
%% Seconds, as invites_bridge_timeout in the Prosody bridge (0.3 is allowed).
mod_opt_type(timeout) -> econf:number(0).

mod_options(_Host) -> [{component, undefined}, {timeout, 5}].

mod_doc() -> #{desc => ["Bridge to the invite service's component (docs/bridge-protocol.md)."]}.

%% The configured component's domain (nameprepped); undefined: not set, so nothing is asked and all is refused.
component(Host) ->
    case gen_mod:get_module_opt(Host, ?MODULE, component) of
        undefined -> undefined;
        C -> jid:nameprep(C)
    end.

timeout_ms(Host) -> max(1, round(gen_mod:get_module_opt(Host, ?MODULE, timeout) * 1000)).

%%% Stream features: XEP-0445 and the legacy name (Conversations and Siskin look for
%%% urn:xmpp:invite only, Monal for urn:xmpp:ibr-token:0 only).

pre_auth_features(Acc, _Host) ->
    Acc ++ [#xmlel{name = <<"register">>, attrs = [{<<"xmlns">>, ?NS_IBR_TOKEN}]},
            #xmlel{name = <<"register">>, attrs = [{<<"xmlns">>, ?NS_INVITE}]}].

%%% Before authentication: the token IQ (XEP-0445) and in-band registration (XEP-0077).

%% lserver: `server` is the stream's `to` as the client wrote it ('LOCALHOST'). A crash here
%% would let mod_register (the next hook) take the registration, and ejabberd would log the
%% packet, password included: every failure is answered here and logged without its data.
unauthenticated_packet(#{lserver := Host} = State, Pkt) ->
    try unauthenticated(Host, State, Pkt)
    catch Class:Reason ->
        ?ERROR_MSG("mod_invites_bridge: a request before authentication failed (~p:~p); refused", [Class, reason_name(Reason)]),
        reply(State, Host, iq_error(Pkt, wait, <<"internal-server-error">>, <<"The invite service could not take this request; try again later">>))
    end;
unauthenticated_packet(State, _Pkt) -> State.

unauthenticated(Host, State, Pkt) ->
    case is_iq(Pkt) of
        false -> State;
        true ->
            case xmpp:get_els(Pkt) of
                [#xmlel{} = El] ->
                    case {xmlns(El), El#xmlel.name, xmpp:get_type(Pkt)} of
                        %% Any type: today's Conversations, Cheogram and Snikket send get.
                        {?NS_PARS, <<"preauth">>, T} when T == get; T == set -> preauth(Host, State, Pkt, El);
                        {?NS_REGISTER, <<"query">>, set} -> register(Host, State, Pkt, El);
                        %% mod_register offers a data form only with CAPTCHA; apps that read only
                        %% the form (Borogove, the Snikket SDK) need one. With a token, ours.
                        {?NS_REGISTER, <<"query">>, get} when is_map_key(invites_token, State) ->
                            reply(State, Host, xmpp:make_iq_result(Pkt, registration_form()));
                        _ -> State
                    end;
                _ -> State
            end
    end.

%% What a failure was, without the data it carried (a function_clause names its arguments).
reason_name(R) when is_atom(R) -> R;
reason_name(R) when is_tuple(R), is_atom(element(1, R)) -> element(1, R);
reason_name(_) -> other.

preauth(Host, State, Pkt, El) ->
    case attr(<<"token">>, El) of
        <<>> ->
            reply(State, Host, iq_error(Pkt, modify, <<"bad-request">>, <<"A preauth element with a token is required">>));
        Token ->
            Ask = el(<<"token">>, [{<<"token">>, Token}, {<<"stream">>, stream_id(State)}, {<<"ip">>, ip(State)}]),
            case call(Host, get, Ask) of
                {ok, _} -> reply(State#{invites_token => Token}, Host, xmpp:make_iq_result(Pkt));
                {refused, {Type, Cond, Text}} -> reply(State, Host, iq_error(Pkt, Type, Cond, Text));
                unreachable -> reply(State, Host, unreachable(Pkt))
            end
    end.

register(Host, State, Pkt, Query) ->
    case credentials(Query) of
        %% Never passed on either: before authentication mod_register refuses every removal
        %% itself, and a <remove/> it does not read (another namespace) would have it register.
        remove -> reply(State, Host, iq_error(Pkt, auth, <<"forbidden">>, <<"Access denied by service policy">>));
        %% Never passed on: mod_register would register what the service never saw.
        undefined -> reply(State, Host, iq_error(Pkt, modify, <<"bad-request">>, <<"A username and a password are required">>));
        {User, Password} ->
            case jid:nodeprep(User) of
                LUser when is_binary(LUser), LUser /= <<>> -> register(Host, State, Pkt, LUser, Password);
                _ -> reply(State, Host, iq_error(Pkt, modify, <<"jid-malformed">>, <<"Malformed username">>))
            end
    end.

register(Host, State, Pkt, LUser, Password) ->
    Token = maps:get(invites_token, State, undefined),
    Exists = ejabberd_auth:user_exists(LUser, Host),
    Ask = el(<<"register">>, [{<<"username">>, LUser}, {<<"exists">>, atom_to_binary(Exists, utf8)}
                              | [{<<"token">>, Token} || Token /= undefined]]),
    case call(Host, set, Ask) of
        unreachable -> reply(State, Host, unreachable(Pkt));
        {refused, {Type, Cond, Text}} -> reply(State, Host, iq_error(Pkt, Type, Cond, Text));
        {ok, Answer} ->
            case {Token, attr(<<"reservation">>, Answer)} of
                %% Token-less registration allowed by the service: mod_register does it, with its own rules.
                {undefined, _} -> State;
                %% A token and no hold: not a registration the service agreed to.
                {_, <<>>} -> reply(State, Host, unreachable(Pkt));
                {_, Reservation} ->
                    Reset = attr(<<"reset">>, Answer) == <<"true">>,
                    Done = make_account(Host, LUser, Password, Reset, attr(<<"roles">>, Answer)),
                    finish(Host, State, Pkt, LUser, Token, Reservation, Done)
            end
    end.

%% The invite is the permission: mod_register's access rule and per-address timeout do
%% not apply to it (the service limits token attempts), its password strength does.
make_account(Host, LUser, Password, Reset, Roles) ->
    case strong_enough(Host, Password) of
        false -> {error, modify, <<"not-acceptable">>, <<"The password is too weak">>};
        true when Reset ->
            case ejabberd_auth:set_password(LUser, Host, Password) of
                ok -> ok;
                {error, Why} -> auth_error(Why)
            end;
        true ->
            case ejabberd_auth:try_register(LUser, Host, Password) of
                ok ->
                    Roles /= <<>> andalso
                        ?INFO_MSG("mod_invites_bridge: ~ts@~ts has the invite's roles (~ts) in the invite service only: "
                                  "ejabberd has no per-account roles", [LUser, Host, Roles]),
                    ok;
                {error, Why} -> auth_error(Why)
            end
    end.

finish(Host, State, Pkt, LUser, Token, Reservation, ok) ->
    Jid = <<LUser/binary, "@", Host/binary>>,
    notify(Host, el(<<"commit">>, [{<<"reservation">>, Reservation}, {<<"token">>, Token}, {<<"jid">>, Jid}]), <<"use by ", Jid/binary>>),
    ?INFO_MSG("mod_invites_bridge: ~ts registered with an invite from ~ts", [Jid, ip(State)]),
    notify_admins(Jid, State),
    %% Used: a second registration on this stream needs its own preauth, and no later crash
    %% report of this process prints the token.
    reply(maps:remove(invites_token, State), Host, xmpp:make_iq_result(Pkt));
finish(Host, State, Pkt, _LUser, _Token, Reservation, {error, Type, Condition, Text}) ->
    notify(Host, el(<<"release">>, [{<<"reservation">>, Reservation}]), <<"release of a hold">>),
    reply(State, Host, iq_error(Pkt, Type, Condition, Text)).

%% mod_register's registration notices (registration_watchers), as for any in-band registration.
notify_admins(Jid, State) ->
    Address = case maps:get(ip, State, undefined) of {A, _Port} -> A; _ -> undefined end,
    try mod_register:send_registration_notifications(mod_register, jid:decode(Jid), Address)
    catch _:_ -> ok
    end.

auth_error(exists) -> {error, cancel, <<"conflict">>, <<"The username is already taken">>};
auth_error(invalid_jid) -> {error, modify, <<"jid-malformed">>, <<"Malformed username">>};
auth_error(invalid_password) -> {error, modify, <<"not-acceptable">>, <<"The password is not acceptable">>};
auth_error(Why) ->
    ?WARNING_MSG("mod_invites_bridge: the account could not be made: ~p", [Why]),
    {error, wait, <<"internal-server-error">>, <<"The account could not be made; try again later">>}.

strong_enough(Host, Password) ->
    try mod_register_opt:password_strength(Host) of
        Min when is_number(Min), Min > 0 -> ejabberd_auth:entropy(Password) >= Min;
        _ -> true
    catch _:_ -> true
    end.

%% The registration fields, plain (XEP-0077) and as a data form (XEP-0004), as Prosody offers them.
registration_form() ->
    Text = fun(Name, Value) -> #xmlel{name = Name, attrs = [], children = [{xmlcdata, Value}]} end,
    Field = fun(Var, Type, Label) ->
                    #xmlel{name = <<"field">>, attrs = [{<<"var">>, Var}, {<<"type">>, Type}, {<<"label">>, Label}],
                           children = [#xmlel{name = <<"required">>, attrs = [], children = []}]}
            end,
    Instructions = <<"Choose a username and password for use with this service.">>,
    Form = #xmlel{name = <<"x">>, attrs = [{<<"xmlns">>, ?NS_DATA}, {<<"type">>, <<"form">>}],
                  children = [Text(<<"title">>, <<"Creating a new account">>),
                              Text(<<"instructions">>, Instructions),
                              #xmlel{name = <<"field">>, attrs = [{<<"var">>, <<"FORM_TYPE">>}, {<<"type">>, <<"hidden">>}],
                                     children = [Text(<<"value">>, ?NS_REGISTER)]},
                              Field(<<"username">>, <<"text-single">>, <<"Username">>),
                              Field(<<"password">>, <<"text-private">>, <<"Password">>)]},
    #xmlel{name = <<"query">>, attrs = [{<<"xmlns">>, ?NS_REGISTER}],
           children = [Text(<<"instructions">>, Instructions),
                       #xmlel{name = <<"username">>, attrs = [], children = []},
                       #xmlel{name = <<"password">>, attrs = [], children = []},
                       Form]}.

%% Username and password, as plain fields or as a submitted data form; `remove` for any
%% <remove/>, whatever its namespace.
credentials(Query) ->
    case [R || #xmlel{name = <<"remove">>} = R <- Query#xmlel.children] of
        [_ | _] -> remove;
        [] ->
            case {own(<<"username">>, Query), own(<<"password">>, Query)} of
                {#xmlel{} = U, #xmlel{} = P} -> {cdata(U), cdata(P)};
                _ ->
                    case [X || #xmlel{name = <<"x">>} = X <- Query#xmlel.children, xmlns(X) == ?NS_DATA] of
                        [Form | _] ->
                            case {field(<<"username">>, Form), field(<<"password">>, Form)} of
                                {U, P} when U /= <<>>, P /= <<>> -> {U, P};
                                _ -> undefined
                            end;
                        [] -> undefined
                    end
            end
    end.

field(Var, Form) ->
    case [F || #xmlel{name = <<"field">>} = F <- Form#xmlel.children, attr(<<"var">>, F) == Var] of
        [F | _] -> case child(<<"value">>, F) of undefined -> <<>>; V -> cdata(V) end;
        [] -> <<>>
    end.

%%% XEP-0050 at the domain: apps find their "invite" button in the server's command list
%%% (Conversations and Gajim keep each item's jid and run the command there; Monal takes
%%% only items at the domain itself). Our command is the component's; listed for local users.

adhoc_local_items(Acc, From, To, _Lang) ->
    {User, FromHost, _} = jid:tolower(From),
    {_, Host, _} = jid:tolower(To),
    case {User /= <<>> andalso FromHost == Host, component(Host), Acc} of
        {true, Component, {result, Items}} when Component /= undefined -> {result, Items ++ [invite_item(Component)]};
        {true, Component, empty} when Component /= undefined -> {result, [invite_item(Component)]};
        _ -> Acc
    end.

invite_item(Component) ->
    #disco_item{jid = jid:make(Component), node = <<"urn:xmpp:invite#invite">>, name = <<"Create new contact invite">>}.

%%% XEP-0379: a subscription request carrying a token.

in_subscription(Acc, Pres) ->
    case xmpp:get_type(Pres) of
        subscribe ->
            Els = xmpp:get_els(Pres),
            case [attr(<<"token">>, E) || #xmlel{name = <<"preauth">>} = E <- Els, xmlns(E) == ?NS_PARS] of
                [] -> Acc;
                [Token | _] ->
                    %% The token never reaches the user, approved or not (issue 14: no token in storage).
                    Plain = xmpp:set_els(Pres, [E || E <- Els, not is_preauth(E)]),
                    User = jid:remove_resource(xmpp:get_to(Pres)),
                    Contact = jid:remove_resource(xmpp:get_from(Pres)),
                    {LU, LS, _} = jid:tolower(User),
                    {_, ContactHost, _} = jid:tolower(Contact),
                    case mod_roster:get_jid_info(undefined, LU, LS, Contact) of
                        %% Approved before: nothing to spend; mod_roster answers it as any request.
                        {S, _, _} when S == from; S == both -> ejabberd_router:route(Plain);
                        %% Sent by our component, this runs in the process that reads the
                        %% component's answers: asked from another one.
                        _ ->
                            case ContactHost == component(LS) of
                                true -> spawn(fun() -> subscription(Token, User, Contact, Plain) end);
                                %% Here, as Prosody does in the session's thread: the sender's next
                                %% stanza (Siskin's `subscribed`) comes after the approval.
                                false -> subscription(Token, User, Contact, Plain)
                            end
                    end,
                    {stop, false}
            end;
        _ -> Acc
    end.

is_preauth(#xmlel{name = <<"preauth">>} = E) -> xmlns(E) == ?NS_PARS;
is_preauth(_) -> false.

subscription(Token, To, From, Pres) ->
    {_, Host, _} = jid:tolower(To),
    %% As the server writes them (nodeprep), so that they compare with the invite's inviter.
    Ask = el(<<"subscription">>, [{<<"token">>, Token}, {<<"user">>, bare(To)}, {<<"contact">>, bare(From)}]),
    try Token /= <<>> andalso call(Host, set, Ask) of
        {ok, _} -> approve(To, From, Pres);
        _ ->
            %% Not approved: the request goes on to the user as any other, without its token.
            ejabberd_router:route(Pres)
    catch Class:Reason ->
        ?ERROR_MSG("mod_invites_bridge: a subscription with an invite failed (~p:~p); passed on unapproved", [Class, reason_name(Reason)]),
        ejabberd_router:route(Pres)
    end.

bare(J) -> jid:encode(jid:tolower(jid:remove_resource(J))).

%% As if the user had accepted: their roster records the request, then their own
%% `subscribed` and, unless they already asked, their `subscribe`. A contact on this
%% host has asked with the user's invite, so that request is taken as accepted too:
%% ejabberd keeps no pre-approval (Monal sends `subscribed` first, then asks), and the
%% request would otherwise wait on the contact's screen.
approve(User, Contact, Request) ->
    mod_roster:in_subscription(false, Request),
    out(subscribed, User, Contact),
    {LU, LS, _} = jid:tolower(User),
    case mod_roster:get_jid_info(undefined, LU, LS, Contact) of
        {S, _, _} when S == to; S == both -> ok;
        {_, A, _} when A == out; A == both -> ok;
        _ ->
            {CU, CS, _} = jid:tolower(Contact),
            case CS == LS andalso ejabberd_auth:user_exists(CU, CS) of
                true ->
                    Back = presence(subscribe, User, Contact),
                    mod_roster:out_subscription(Back),
                    mod_roster:in_subscription(false, Back),
                    out(subscribed, Contact, User);
                false -> out(subscribe, User, Contact)
            end
    end,
    ?INFO_MSG("mod_invites_bridge: ~ts's subscription to ~ts approved with an invite", [jid:encode(Contact), jid:encode(User)]).

%% A subscription presence sent by From: recorded in From's roster, then routed.
out(Type, From, To) ->
    Pres = presence(Type, From, To),
    mod_roster:out_subscription(Pres),
    ejabberd_router:route(Pres).

presence(Type, From, To) ->
    decode(#xmlel{name = <<"presence">>,
                  attrs = [{<<"type">>, atom_to_binary(Type, utf8)}, {<<"from">>, jid:encode(From)}, {<<"to">>, jid:encode(To)}]}).

%%% Component -> bridge

%% Our component's bridge IQ to a host that runs the bridge goes on to be routed as it is,
%% past mod_privilege; anything else is left to it.
component_send_packet({Pkt, _State} = Acc) ->
    try is_iq(Pkt) andalso lists:member(xmpp:get_type(Pkt), [get, set, result]) andalso ours(Pkt) of
        true -> {stop, Acc};
        false -> Acc
    catch _:_ -> Acc
    end;
component_send_packet(Acc) -> Acc.

ours(Pkt) ->
    case {jid:tolower(xmpp:get_to(Pkt)), jid:tolower(xmpp:get_from(Pkt)), [E || #xmlel{} = E <- xmpp:get_els(Pkt)]} of
        {{<<>>, Host, <<>>}, {<<>>, From, <<>>}, [El]} ->
            xmlns(El) == ?NS andalso gen_mod:is_loaded(Host, ?MODULE) andalso From == component(Host);
        _ -> false
    end.

%% gen_iq_handler decodes a request with this when exported: ours stay XML (xmpp knows no such tags).
decode_iq_subel(El) -> El.

process_iq(IQ) ->
    {_, Host, _} = jid:tolower(xmpp:get_to(IQ)),
    Lang = xmpp:get_lang(IQ),
    Component = jid:nameprep(component(Host)),
    case jid:tolower(xmpp:get_from(IQ)) of
        {<<>>, Component, <<>>} ->
            case alone(Component) of
                true -> serve(Host, IQ, Lang);
                false -> xmpp:make_error(IQ, xmpp:err_conflict(<<"More than one connection holds the invite component's domain">>, Lang))
            end;
        _ -> forbidden(IQ, Lang)
    end.

forbidden(IQ, Lang) ->
    xmpp:make_error(IQ, xmpp:err_forbidden(<<"Only the invite component may ask this">>, Lang)).

serve(Host, IQ, Lang) ->
    [El | _] = [E || #xmlel{} = E <- xmpp:get_els(IQ)] ++ [#xmlel{}],
    try handle(Host, xmpp:get_type(IQ), El#xmlel.name, El) of
        ok -> xmpp:make_iq_result(IQ);
        {result, Attrs} -> xmpp:make_iq_result(IQ, el(El#xmlel.name, Attrs));
        {error, Fun, Text} -> xmpp:make_error(IQ, xmpp:Fun(Text, Lang))
    catch Class:Reason:Stack ->
        ?ERROR_MSG("mod_invites_bridge: ~ts failed: ~p:~p ~p", [El#xmlel.name, Class, Reason, Stack]),
        xmpp:make_error(IQ, xmpp:err_internal_server_error())
    end.

handle(Host, set, <<"befriend">>, El) ->
    Group = case lists:keyfind(<<"group">>, 1, El#xmlel.attrs) of {_, G} -> G; false -> undefined end,
    case {local(Host, attr(<<"a">>, El)), local(Host, attr(<<"b">>, El))} of
        {{A, _}, {A, _}} -> {error, err_bad_request, <<"a and b must be two local accounts">>};
        {{AU, AJ}, {BU, BJ}} ->
            case Group == undefined orelse group_name(Group) of
                false -> {error, err_bad_request, <<"group must be a roster group name (not blank, at most 1023 bytes)">>};
                true ->
                    case ejabberd_auth:user_exists(AU, Host) andalso ejabberd_auth:user_exists(BU, Host) of
                        false -> {error, err_item_not_found, <<"No such account">>};
                        true ->
                            lets_see(AJ, BJ),
                            lets_see(BJ, AJ),
                            case Group == undefined orelse (add_group(AJ, BJ, Group) andalso add_group(BJ, AJ, Group)) of
                                true ->
                                    ?INFO_MSG("mod_invites_bridge: ~ts and ~ts are now contacts", [jid:encode(AJ), jid:encode(BJ)]),
                                    ok;
                                false -> {error, err_internal_server_error, <<"The roster could not be saved">>}
                            end
                    end
            end;
        _ -> {error, err_bad_request, <<"a and b must be two local accounts">>}
    end;
handle(Host, set, <<"bookmark">>, El) ->
    case {local(Host, attr(<<"jid">>, El)), bare_jid(attr(<<"room">>, El))} of
        {{U, J}, {ok, Room}} ->
            case ejabberd_auth:user_exists(U, Host) of
                false -> {error, err_item_not_found, <<"No such account">>};
                true -> bookmark(Host, J, Room, attr(<<"name">>, El))
            end;
        _ -> {error, err_bad_request, <<"jid must be a local bare JID and room a bare JID">>}
    end;
handle(Host, get, <<"account">>, El) ->
    case local(Host, attr(<<"jid">>, El)) of
        {U, J} ->
            Exists = ejabberd_auth:user_exists(U, Host),
            Admin = Exists andalso acl:match_rule(Host, configure, J) == allow,
            {result, [{<<"exists">>, atom_to_binary(Exists, utf8)},
                      {<<"admin">>, atom_to_binary(Admin, utf8)}]};
        _ -> {error, err_bad_request, <<"jid must be a local bare JID">>}
    end;
handle(_Host, get, <<"nodeprep">>, El) ->
    case jid:nodeprep(attr(<<"username">>, El)) of
        U when is_binary(U), U /= <<>> -> {result, [{<<"username">>, U}]};
        _ -> {error, err_not_acceptable, <<"Not a valid username on this server">>}
    end;
handle(Host, set, <<"grant">>, El) ->
    case {local(Host, attr(<<"jid">>, El)), attr(<<"roles">>, El)} of
        {{U, _}, Roles} when Roles /= <<>> ->
            case ejabberd_auth:user_exists(U, Host) of
                false -> {error, err_item_not_found, <<"No such account">>};
                true -> {error, err_not_allowed, <<"ejabberd has no per-account roles: an administrator is listed under acl: admin in ejabberd.yml">>}
            end;
        _ -> {error, err_bad_request, <<"jid (a local bare JID) and roles are required">>}
    end;
handle(_Host, get, <<"info">>, _El) ->
    {result, [{<<"server">>, <<"ejabberd">>}, {<<"version">>, version()}]};
handle(_Host, _Type, _Name, _El) ->
    {error, err_feature_not_implemented, <<"Unknown bridge request">>}.

%% Watcher subscribes to Owner's presence and Owner approves, both recorded as mod_roster
%% records them (roster pushes, presence): the names and groups the two gave each other stay,
%% where a roster set would replace them. Twice, once each way, makes `both`; again, no change.
lets_see(Owner, Watcher) ->
    Ask = presence(subscribe, Watcher, Owner),
    mod_roster:out_subscription(Ask),
    mod_roster:in_subscription(false, Ask),
    Yes = presence(subscribed, Owner, Watcher),
    mod_roster:out_subscription(Yes),
    mod_roster:in_subscription(false, Yes).

%% A roster group name: not blank, not longer than the Prosody bridge takes.
group_name(G) -> byte_size(G) =< 1023 andalso re:run(G, <<"\\S">>, [unicode]) /= nomatch.

%% Owner's roster item for Contact gets Group besides the groups it has (and keeps its name),
%% through mod_roster's own roster set as if Owner's client sent it: stored, and pushed to
%% Owner's sessions. The subscription (set just before) is not touched by a roster set.
add_group(Owner, Contact, Group) ->
    Encoded = jid:encode(Contact),
    Items = roster_items(Owner),
    case [I || I <- Items, jid:tolower(jid:decode(attr(<<"jid">>, I))) == jid:tolower(Contact)] of
        [] ->
            ?WARNING_MSG("mod_invites_bridge: ~ts has no roster item for ~ts to add a group to", [jid:encode(Owner), Encoded]),
            false;
        [Item | _] ->
            Groups = [cdata(G) || #xmlel{name = <<"group">>} = G <- Item#xmlel.children],
            case lists:member(Group, Groups) of
                true -> true;
                false ->
                    Name = [{<<"name">>, N} || N <- [attr(<<"name">>, Item)], N /= <<>>],
                    New = #xmlel{name = <<"item">>, attrs = [{<<"jid">>, Encoded} | Name],
                                 children = [#xmlel{name = <<"group">>, children = [{xmlcdata, G}]} || G <- Groups ++ [Group]]},
                    Reply = mod_roster:process_iq(roster_iq(Owner, set, [New])),
                    case xmpp:get_type(Reply) of
                        result -> true;
                        _ ->
                            ?WARNING_MSG("mod_invites_bridge: the roster group of ~ts for ~ts was not saved: ~ts",
                                         [jid:encode(Owner), Encoded, condition(Reply)]),
                            false
                    end
            end
    end.

%% Owner's roster items as XML, as mod_roster answers Owner's own roster get.
roster_items(Owner) ->
    Reply = mod_roster:process_iq(roster_iq(Owner, get, [])),
    case xmpp:get_type(Reply) of
        result ->
            #xmlel{children = Children} = xmpp:encode(Reply),
            [I || #xmlel{name = <<"query">>} = Q <- Children, #xmlel{name = <<"item">>} = I <- Q#xmlel.children];
        _ -> []
    end.

roster_iq(Owner, Type, Items) ->
    Bare = jid:encode(jid:remove_resource(Owner)),
    xmpp:decode(#xmlel{name = <<"iq">>,
                       attrs = [{<<"type">>, atom_to_binary(Type, utf8)}, {<<"id">>, p1_rand:get_string()},
                                {<<"from">>, Bare}, {<<"to">>, Bare}],
                       children = [#xmlel{name = <<"query">>, attrs = [{<<"xmlns">>, ?NS_ROSTER}], children = Items}]},
                ?NS_CLIENT, []).

%% XEP-0402: a conference item in the account's own PEP node, with the node configuration
%% the XEP asks for (publish-options), published by mod_pubsub's PEP IQ handler (iq_sm, in
%% 23.01 and 24.12) as if the account's client sent it, so this version's own parsing of the
%% options and its preconditions apply. A bookmark of that room the account already has is
%% left as it is.
bookmark(Host, User, Room, Name) ->
    Owner = jid:tolower(jid:remove_resource(User)),
    case pep_loaded(Host) of
        false -> {error, err_feature_not_implemented, <<"mod_pubsub with its pep plugin is not loaded on this host">>};
        true ->
            case mod_pubsub:get_item(Owner, ?NS_BOOKMARKS, Room) of
                {error, _} -> publish_bookmark(User, Room, Name);
                _Existing -> {result, [{<<"existed">>, <<"true">>}]}
            end
    end.

pep_loaded(Host) ->
    gen_mod:is_loaded(Host, mod_pubsub) andalso
        (try lists:member(<<"pep">>, mod_pubsub:plugins(Host)) catch _:_ -> false end).

%% XEP-0402's node configuration, as field and value.
-define(BOOKMARK_CONFIG, [{<<"pubsub#persist_items">>, <<"true">>}, {<<"pubsub#max_items">>, <<"max">>},
                          {<<"pubsub#send_last_published_item">>, <<"never">>}, {<<"pubsub#access_model">>, <<"whitelist">>}]).
%% The publish-options 23.01 knows (its xmpp library's form has no other field).
-define(BOOKMARK_CONFIG_23, [{<<"pubsub#persist_items">>, <<"true">>}, {<<"pubsub#access_model">>, <<"whitelist">>}]).

publish_bookmark(User, Room, Name) ->
    case pubsub_iq(User, set, ?NS_PUBSUB, [publish_el(Room, Name), options_el(<<"publish-options">>, ?BOOKMARK_CONFIG)]) of
        {ok, _} -> {result, [{<<"existed">>, <<"false">>}]};
        %% 23.01: "Unknown field 'pubsub#max_items' of type publish-options". The node is made
        %% with XEP-0402's configuration first (or found to have it), then published to with the
        %% options that version checks.
        {error, <<"resource-constraint">>, _} -> publish_bookmark_23(User, Room, Name);
        {error, Why, Reply} -> bookmark_error(User, Room, Why, Reply)
    end.

publish_bookmark_23(User, Room, Name) ->
    Configured = case pubsub_iq(User, set, ?NS_PUBSUB, [#xmlel{name = <<"create">>, attrs = [{<<"node">>, ?NS_BOOKMARKS}]},
                                                     options_el(<<"configure">>, ?BOOKMARK_CONFIG, <<"node_config">>)]) of
                     {ok, _} -> true;
                     {error, <<"conflict">>, _} -> bookmarks_configured(User);
                     {error, Why, Reply} -> {error, Why, Reply}
                 end,
    case Configured of
        true ->
            case pubsub_iq(User, set, ?NS_PUBSUB, [publish_el(Room, Name), options_el(<<"publish-options">>, ?BOOKMARK_CONFIG_23)]) of
                {ok, _} -> {result, [{<<"existed">>, <<"false">>}]};
                {error, Why2, Reply2} -> bookmark_error(User, Room, Why2, Reply2)
            end;
        false -> bookmark_error(User, Room, <<"precondition-not-met">>, undefined);
        {error, Why3, Reply3} -> bookmark_error(User, Room, Why3, Reply3)
    end.

%% Whether the account's existing node has XEP-0402's configuration (what a newer ejabberd's
%% preconditions check), as its owner reads it.
bookmarks_configured(User) ->
    case pubsub_iq(User, get, <<?NS_PUBSUB/binary, "#owner">>, [#xmlel{name = <<"configure">>, attrs = [{<<"node">>, ?NS_BOOKMARKS}]}]) of
        {ok, Reply} ->
            Fields = [{attr(<<"var">>, F), case child(<<"value">>, F) of undefined -> <<>>; V -> cdata(V) end}
                      || #xmlel{name = <<"pubsub">>} = P <- (xmpp:encode(Reply))#xmlel.children,
                         #xmlel{name = <<"configure">>} = C <- P#xmlel.children,
                         #xmlel{name = <<"x">>} = X <- C#xmlel.children,
                         #xmlel{name = <<"field">>} = F <- X#xmlel.children],
            lists:all(fun({Var, Want}) ->
                              Have = proplists:get_value(Var, Fields, <<>>),
                              Have == Want orelse (Want == <<"true">> andalso Have == <<"1">>)
                      end, ?BOOKMARK_CONFIG);
        _ -> false
    end.

bookmark_error(User, Room, Why, Reply) ->
    ?WARNING_MSG("mod_invites_bridge: could not bookmark ~ts for ~ts: ~ts", [Room, jid:encode(User), Why]),
    case Why == <<"conflict">> orelse Why == <<"precondition-not-met">> orelse (Reply /= undefined andalso precondition_failed(Reply)) of
        true -> {error, err_conflict, <<"The account's bookmarks node (urn:xmpp:bookmarks:1) has another configuration than XEP-0402's">>};
        false -> {error, err_internal_server_error, <<"The bookmark could not be published: ", Why/binary>>}
    end.

publish_el(Room, Name) ->
    Conference = #xmlel{name = <<"conference">>,
                        attrs = [{<<"xmlns">>, ?NS_BOOKMARKS}, {<<"autojoin">>, <<"true">>} | [{<<"name">>, Name} || Name /= <<>>]]},
    #xmlel{name = <<"publish">>, attrs = [{<<"node">>, ?NS_BOOKMARKS}],
           children = [#xmlel{name = <<"item">>, attrs = [{<<"id">>, Room}], children = [Conference]}]}.

options_el(Name, Fields) -> options_el(Name, Fields, <<"publish-options">>).
options_el(Name, Fields, FormType) ->
    Field = fun({Var, Value}) -> #xmlel{name = <<"field">>, attrs = [{<<"var">>, Var}],
                                        children = [#xmlel{name = <<"value">>, children = [{xmlcdata, Value}]}]} end,
    FormTypeField = #xmlel{name = <<"field">>, attrs = [{<<"var">>, <<"FORM_TYPE">>}, {<<"type">>, <<"hidden">>}],
                           children = [#xmlel{name = <<"value">>, children = [{xmlcdata, <<?NS_PUBSUB/binary, "#", FormType/binary>>}]}]},
    #xmlel{name = Name, children = [#xmlel{name = <<"x">>, attrs = [{<<"xmlns">>, ?NS_DATA}, {<<"type">>, <<"submit">>}],
                                           children = [FormTypeField | lists:map(Field, Fields)]}]}.

%% A pubsub IQ of the account to its own PEP service, answered by mod_pubsub's handler for
%% it (iq_sm) as if the account's client had sent it. {ok, Reply} or {error, Condition, Reply}.
pubsub_iq(User, Type, NS, Children) ->
    Bare = jid:encode(jid:remove_resource(User)),
    IQ = xmpp:decode(#xmlel{name = <<"iq">>,
                            attrs = [{<<"type">>, atom_to_binary(Type, utf8)}, {<<"id">>, p1_rand:get_string()},
                                     {<<"from">>, Bare}, {<<"to">>, Bare}],
                            children = [#xmlel{name = <<"pubsub">>, attrs = [{<<"xmlns">>, NS}], children = Children}]},
                     ?NS_CLIENT, []),
    Reply = mod_pubsub:iq_sm(IQ),
    case xmpp:get_type(Reply) of
        result -> {ok, Reply};
        _ -> {error, condition(Reply), Reply}
    end.

precondition_failed(Reply) ->
    [C || #xmlel{name = <<"error">>} = E <- els(Reply), #xmlel{name = <<"precondition-not-met">>} = C <- E#xmlel.children] /= [].

%% {ok, Bare} for a bare JID with a local part (a room), undefined otherwise.
bare_jid(Value) ->
    try jid:decode(Value) of
        J ->
            case jid:tolower(J) of
                {U, _, <<>>} when U /= <<>> -> {ok, jid:encode(jid:remove_resource(J))};
                _ -> undefined
            end
    catch _:_ -> undefined
    end.

%% {LUser, Jid} for a bare JID of an account of Host; undefined otherwise.
local(Host, Value) ->
    try jid:decode(Value) of
        J ->
            case jid:tolower(J) of
                {U, Host, <<>>} when U /= <<>> -> {U, J};
                _ -> undefined
            end
    catch _:_ -> undefined
    end.

version() ->
    case application:get_key(ejabberd, vsn) of
        {ok, V} -> hd(binary:split(list_to_binary(V), <<"-">>));
        _ -> <<"unknown">>
    end.

%%% Calls to the component

%% Ask and wait, in this process (a client's stream before authentication, or one of our own).
%% Only while the component is connected here: otherwise the request (a token, an address)
%% would be routed elsewhere, to s2s where it is on.
call(Host, Type, El) ->
    case reachable(Host) of
        false -> unreachable;
        true ->
            Ref = make_ref(),
            Timeout = timeout_ms(Host),
            ejabberd_router:route_iq(iq(Host, Type, El), Ref, self(), Timeout),
            receive
                {iq_reply, Reply, Ref} -> answer(component(Host), Reply)
            after Timeout + 1000 -> unreachable
            end
    end.

reachable(Host) ->
    case component(Host) of
        undefined -> false;
        Component -> ejabberd_router:is_my_route(Component) andalso alone(Component)
    end.

%% ejabberd accepts every connection with the component's secret and balances the domain over
%% them (Prosody refuses a second): with two, whoever else holds the secret would decide some
%% registrations and resets. Refused, fail closed, until one leaves.
alone(Component) ->
    N = connections(Component),
    %% Logged when the count changes, not on every request.
    Key = {?MODULE, connections, Component},
    case persistent_term:get(Key, 1) of
        N -> ok;
        _ when N > 1 ->
            persistent_term:put(Key, N),
            ?ERROR_MSG("mod_invites_bridge: ~B connections hold the component domain ~ts; invite registrations "
                       "are refused until one leaves (has someone else its secret? a connection ejabberd has not "
                       "yet seen drop, or one per cluster node, counts too)", [N, Component]);
        _ ->
            persistent_term:put(Key, N),
            ?INFO_MSG("mod_invites_bridge: one connection holds the component domain ~ts again", [Component])
    end,
    N =< 1.

connections(Component) ->
    try (ejabberd_router:get_backend()):find_routes(Component) of
        {ok, Routes} when is_list(Routes) -> length(Routes);
        _ -> 1
    catch _:_ -> 1
    end.

%% A refusal decided by the component carries <refused/>; any other error, or none in time, is "unreachable".
answer(_Component, timeout) -> unreachable;
answer(Component, Reply) ->
    case jid:tolower(xmpp:get_from(Reply)) == {<<>>, Component, <<>>} andalso xmpp:get_type(Reply) of
        result -> {ok, case [E || #xmlel{} = E <- xmpp:get_els(Reply)] of [E | _] -> E; [] -> #xmlel{} end};
        error ->
            %% Passed on as type, condition and text only, as the Prosody bridge does.
            case [E || #xmlel{name = <<"error">>} = E <- els(Reply), is_refusal(E)] of
                [Err | _] ->
                    Conds = [N || #xmlel{name = N} = C <- Err#xmlel.children, xmlns(C) == ?NS_STANZAS, N /= <<"text">>],
                    Text = case child(<<"text">>, Err) of undefined -> <<>>; T -> cdata(T) end,
                    {refused, {binary_to_atom(attr(<<"type">>, Err), utf8), hd(Conds ++ [<<"not-allowed">>]), Text}};
                [] -> unreachable
            end;
        _ -> unreachable
    end.

%% A reply's children as XML: one ejabberd made itself (a bounce) holds records, not XML.
els(Reply) ->
    #xmlel{children = Children} = xmpp:encode(Reply),
    [C || #xmlel{} = C <- Children].

is_refusal(Err) ->
    lists:member(attr(<<"type">>, Err), [<<"cancel">>, <<"modify">>, <<"auth">>, <<"wait">>])
        andalso [R || #xmlel{name = <<"refused">>} = R <- Err#xmlel.children, xmlns(R) == ?NS] /= [].

%% Fire and forget (commit, release): the component settles what it never hears.
notify(Host, El, What) ->
    Component = component(Host),
    NotConfirmed = fun(Why) -> ?WARNING_MSG("invite component ~ts: ~ts not confirmed (~ts)", [Component, What, Why]) end,
    case reachable(Host) of
        false -> NotConfirmed(<<"not connected">>);
        true ->
            ejabberd_router:route_iq(iq(Host, set, El),
                                     fun(timeout) -> NotConfirmed(<<"timeout">>);
                                        (Reply) ->
                                            case xmpp:get_type(Reply) of
                                                result -> ok;
                                                _ -> NotConfirmed(condition(Reply))
                                            end
                                     end, undefined, timeout_ms(Host))
    end.

condition(Reply) ->
    case [N || #xmlel{name = <<"error">>} = E <- els(Reply), #xmlel{name = N} = C <- E#xmlel.children,
               xmlns(C) == ?NS_STANZAS, N /= <<"text">>] of
        [N | _] -> N;
        [] -> <<"error">>
    end.

iq(Host, Type, El) ->
    decode(#xmlel{name = <<"iq">>,
                  attrs = [{<<"type">>, atom_to_binary(Type, utf8)}, {<<"id">>, p1_rand:get_string()},
                           {<<"from">>, Host}, {<<"to">>, component(Host)}],
                  children = [El]}).

%%% Replies to an unauthenticated client, as mod_register sends them.

reply(State, Host, Pkt) ->
    {stop, ejabberd_c2s:send(State, xmpp:set_from_to(Pkt, jid:make(Host), undefined))}.

unreachable(Pkt) -> iq_error(Pkt, wait, <<"service-unavailable">>, ?UNREACHABLE).

iq_error(Pkt, Type, Condition, Text) ->
    Err = decode(#xmlel{name = <<"error">>, attrs = [{<<"type">>, atom_to_binary(Type, utf8)}],
                        children = [#xmlel{name = Condition, attrs = [{<<"xmlns">>, ?NS_STANZAS}]},
                                    #xmlel{name = <<"text">>, attrs = [{<<"xmlns">>, ?NS_STANZAS}, {<<"xml:lang">>, <<"en">>}],
                                           children = [{xmlcdata, Text}]}]}),
    xmpp:make_error(Pkt, Err).

%%% Small helpers

decode(#xmlel{name = <<"iq">>} = El) -> xmpp:decode(El, <<"jabber:client">>, [ignore_els]);
decode(#xmlel{name = <<"presence">>} = El) -> xmpp:decode(El, <<"jabber:client">>, [ignore_els]);
decode(#xmlel{name = <<"error">>} = El) -> xmpp:decode(El, <<"jabber:client">>, []);
decode(El) -> xmpp:decode(El).

is_iq(Pkt) -> element(1, Pkt) == iq.

el(Name, Attrs) -> #xmlel{name = Name, attrs = [{<<"xmlns">>, ?NS} | [{K, V} || {K, V} <- Attrs, V /= undefined]]}.

xmlns(#xmlel{} = El) -> attr(<<"xmlns">>, El).

attr(Name, #xmlel{attrs = Attrs}) ->
    case lists:keyfind(Name, 1, Attrs) of
        {_, V} -> V;
        false -> <<>>
    end.

child(Name, #xmlel{children = Children}) ->
    case [C || #xmlel{name = N} = C <- Children, N == Name] of
        [C | _] -> C;
        [] -> undefined
    end.

%% A child of the register query in the query's own namespace (no xmlns of its own, or that one).
own(Name, #xmlel{children = Children}) ->
    case [C || #xmlel{name = N} = C <- Children, N == Name, lists:member(xmlns(C), [<<>>, ?NS_REGISTER])] of
        [C | _] -> C;
        [] -> undefined
    end.

cdata(#xmlel{children = Children}) -> iolist_to_binary([D || {xmlcdata, D} <- Children]).

stream_id(State) -> maps:get(stream_id, State, <<>>).

ip(#{ip := {Address, _Port}}) -> list_to_binary(inet:ntoa(Address));
ip(_) -> <<>>.
