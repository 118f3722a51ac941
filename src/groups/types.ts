// Named groups of accounts (Snikket's circles, Prosody's mod_invites_groups): an
// invite carrying groups makes its new account a member of each, and every member
// of a group is a mutual contact of every other one, under the group's name.

export interface Group {
  /** As the admin typed it; unique without regard to case. Also the roster group's name. */
  name: string;
  /** The group's chat room (bare JID), bookmarked for and offered to each new member. */
  room?: string;
  /** Bare JIDs of local accounts, in the order they joined. */
  members: string[];
  createdAt: string;
  createdBy: string;
}

/** Emitted as 'joined' once `jid` is a member of `group` (from an invite, or added by an admin). */
export interface JoinedEvent {
  group: Group;
  jid: string;
  /** The members before `jid` joined: each becomes its contact. */
  others: string[];
  via: 'invite' | 'added';
}
