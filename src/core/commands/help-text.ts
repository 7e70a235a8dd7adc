// The text HELP and HELPOP show (commands/help.ts). One entry per command in the dispatch table
// (test/core/help-text.test.ts checks that none is missing), plus a few topics. The first line
// is the syntax and becomes the title (RPL_HELPSTART); the rest are RPL_HELPTXT lines. Keep
// lines short: clients show them as they are.

import { WHOWAS_CAPACITY, WHOWAS_PER_NICK } from '../whowas.js';
import { KNOCK_ROOM_DELAY_MS, KNOCK_USER_DELAY_MS } from './knock.js';

/** Help topics by upper-case name: commands, and the topics below them. */
export const HELP_TEXT: Readonly<Record<string, readonly string[]>> = {
  // Connection and registration
  CAP: [
    'CAP LS [302] | CAP LIST | CAP REQ :<caps> | CAP END',
    'Negotiates IRCv3 capabilities. LS lists what the server offers (302: with',
    'values), REQ asks for some (prefix one with - to drop it), LIST shows what',
    'is enabled, END ends negotiation so registration can finish.',
    'See /HELP CAPS for the capabilities Parley offers.',
  ],
  PASS: [
    'PASS <password>',
    'Sent before NICK and USER. With a server password configured, it is that',
    'password. Otherwise PASS <account>:<password> (or a bare password for the',
    'account named like your nick) logs you in when registration completes.',
  ],
  NICK: [
    'NICK <nickname>',
    'Sets or changes your nickname. A registered nick needs you to be logged in',
    'to its account (SASL, PASS, or /msg NickServ IDENTIFY).',
  ],
  USER: [
    'USER <username> <mode> <unused> :<realname>',
    'Sent once at connection, with NICK. The username is shown as ~username in',
    'your address; the realname must not be empty (SETNAME changes it later).',
  ],
  PING: ['PING <token>', 'The server answers PONG with the same token: a round trip to check the link.'],
  PONG: ['PONG <token>', "The answer to the server's PING. Any line you send also proves you are there."],
  QUIT: ['QUIT [:<reason>]', 'Disconnects. Your rooms see the reason as "Quit: <reason>".'],
  AUTHENTICATE: [
    'AUTHENTICATE <mechanism> | AUTHENTICATE <base64> | AUTHENTICATE *',
    'SASL login (needs the sasl capability), before or after registration.',
    'Mechanisms: PLAIN and SCRAM-SHA-256. * aborts the exchange.',
  ],
  REGISTER: [
    'REGISTER <account> <email> <password>',
    'Creates an account and logs you in (IRCv3 draft/account-registration),',
    'also before registration completes. * as the account means your current',
    'nick; * as the email means none. /msg NickServ REGISTER works too.',
  ],
  VERIFY: [
    'VERIFY <account> <code>',
    'Completes an account registration that waits for a code. Parley does not',
    'send e-mail codes, so no registration ever waits for one.',
  ],
  OPER: ['OPER <name> <password>', 'Become an IRC operator, with a name and password from the server configuration.'],

  // Operators
  SEARCH: [
    'SEARCH text=<words>[;in=<#room | nick>][;from=<nick>][;after=<time>][;before=<time>][;limit=<n>]',
    'Searches the history you may read (soju.im/search; the client negotiates it): every word',
    'of text, "phrases" kept together, from:nick too; in one room or conversation, or all of',
    'yours. Times as server-time writes them. Results come oldest first, at most the limit.',
  ],
  KILL: ['KILL <nick> [:<reason>]', 'Operators only. Disconnects a user.'],
  CHGHOST: [
    'CHGHOST <nick> <host>',
    "Operators only. Changes the host a user is shown with (a vhost). Clients with the",
    'chghost capability see CHGHOST; others see the user quit and join again.',
  ],
  KLINE: [
    'KLINE [<duration>] <user@host | nick> [:<reason>]',
    'Operators only. Bans user@host masks from the server (a nick stands for',
    '*@their address) and disconnects who matches. Durations: 90s, 30m, 1h, 7d,',
    '2w, combinations like 1h30m, or bare minutes; none or 0 is permanent.',
  ],
  UNKLINE: ['UNKLINE <user@host>', 'Operators only. Removes a K-line.'],
  DLINE: [
    'DLINE [<duration>] <ip | cidr | nick> [:<reason>]',
    'Operators only. Refuses connections from an address or network (a nick',
    'stands for their address) and disconnects who matches. Durations as KLINE.',
  ],
  UNDLINE: ['UNDLINE <ip | cidr>', 'Operators only. Removes a D-line.'],
  STATS: ['STATS <query>', 'u: server uptime. Operators: k lists the K-lines, d the D-lines.'],
  WALLOPS: [
    'WALLOPS :<text>',
    'Operators only. Sends the text to every user with user mode +w (and back to',
    'you). /MODE <yournick> +w to receive them.',
  ],

  // Rooms
  JOIN: [
    'JOIN <#room>{,<#room>} [<key>{,<key>}] | JOIN 0',
    'Joins rooms, creating them if needed (you become their operator). A key',
    'opens a room with mode +k. JOIN 0 leaves every room. Recent history is',
    'replayed to clients that ask for it (draft/chathistory).',
  ],
  PART: ['PART <#room>{,<#room>} [:<reason>]', 'Leaves rooms.'],
  TOPIC: [
    'TOPIC <#room> [:<topic>]',
    'Shows the topic, or sets it (an empty topic clears it). With mode +t only',
    'room operators may set it.',
  ],
  NAMES: ['NAMES [<#room>{,<#room>}]', 'Lists the members of rooms, with @ for operators and + for voiced users.'],
  LIST: [
    'LIST [<#room or condition>{,<#room or condition>}]',
    'Lists rooms with their member counts and topics. Conditions: >n and <n keep',
    'rooms with more or fewer than n members; C<m and C>m rooms made less or more',
    'than m minutes ago; T<m and T>m rooms whose topic was set less or more than m',
    'minutes ago; a mask with * or ? rooms whose names match it, !mask those that',
    'do not (at most 10 masks). Secret rooms (+s) show to their members only.',
  ],
  KICK: [
    'KICK <#room>{,<#room>} <nick>{,<nick>} [:<reason>]',
    'Room operators only. Removes users from a room: one room and several nicks,',
    'or as many rooms as nicks, taken in pairs.',
  ],
  INVITE: [
    'INVITE <nick> <#room> | INVITE',
    'Invites a user to a room you are in; the invitation lets them past +i and',
    'bans, once. In a +i room only its operators may invite. INVITE alone lists',
    'the rooms you are invited to.',
  ],
  KNOCK: [
    'KNOCK <#room> [:<message>]',
    "Asks a room's operators for an invitation, when it is invite-only (+i), has a",
    'key (+k) or is full (+l). Not when you are banned from it.',
    `At most one every ${KNOCK_USER_DELAY_MS / 1000} seconds, and one per room every ${KNOCK_ROOM_DELAY_MS / 1000} seconds.`,
  ],

  RENAME: [
    'RENAME <#room> <#new name> [:<reason>]',
    'Renames a room you operate (IRCv3 draft/channel-rename): members, modes, topic,',
    'bans and history all move to the new name. The prefix (#) stays the same; the',
    'old name sends people who join it to the new one for a while (a day by default).',
    'At most one rename per room every 5 minutes by default.',
  ],

  // Messages
  PRIVMSG: [
    'PRIVMSG <target>{,<target>} :<text>',
    'Sends a message to rooms or users. @#room reaches its operators only, +#room',
    'its voiced users and operators. Text longer than fits one line as others',
    'receive it (512 bytes with your address) is cut at a character boundary.',
  ],
  NOTICE: [
    'NOTICE <target>{,<target>} :<text>',
    'Like PRIVMSG, for text that must never be answered automatically. The server',
    'sends no error back either, not even for a missing target.',
  ],
  TAGMSG: ['TAGMSG <target>{,<target>}', 'A message with only client tags (typing notices, reactions): needs message-tags.'],

  // Modes
  MODE: [
    'MODE <#room> [<modes> [<params>...]] | MODE <yournick> [<modes>]',
    'Shows or changes room modes (room operators) or your own user modes.',
    'At most 4 modes with a parameter per command. See /HELP CMODES and UMODES.',
  ],

  // Users
  AWAY: ['AWAY [:<message>]', 'Marks you away with a message; AWAY alone marks you back.'],
  SETNAME: ['SETNAME :<realname>', 'Changes your realname (IRCv3 setname); rooms that asked are told.'],
  WHO: [
    'WHO <#room | nick | mask> [%<fields>[,<token>]]',
    'Lists users: the members of a room, one nick, or everyone visible whose nick,',
    'username, host or realname matches a mask (* and ?). Flags: H here, G away,',
    '* IRC operator, then @ or + in the room. With %fields (WHOX) each user is one',
    '354 line of the fields asked for: t token, c room, u user, i address, h host,',
    's server, n nick, f flags, d hops, l idle seconds, a account, o op level, r realname.',
  ],
  WHOIS: ['WHOIS [<server>] <nick>', 'Shows who a user is: address, realname, rooms, account, away, idle time.'],
  WHOWAS: [
    'WHOWAS <nick> [<count>]',
    'Shows who used a nick that is gone (changed or quit), newest first; count',
    `limits how many. The server keeps the last ${WHOWAS_CAPACITY} such changes, ${WHOWAS_PER_NICK} per nick.`,
  ],
  MONITOR: [
    'MONITOR + <nick>{,<nick>} | - <nick>{,<nick>} | C | L | S',
    'Tells you when nicks come online or leave, on any server of the network: +',
    'adds nicks (730 online, 731 offline), - removes them, C clears the list, L',
    'lists it, S shows who is online now. The limit per client is ISUPPORT',
    'MONITOR=<n>. With the extended-monitor capability you also see their AWAY,',
    'ACCOUNT and SETNAME changes when you negotiated the matching capability.',
  ],
  METADATA: [
    'METADATA <target> GET <key>... | LIST | SET <key> [:<value>] | CLEAR | SYNC',
    'METADATA * SUB <key>... | UNSUB <key>... | SUBS   (draft/metadata-2)',
    'Key/value data on your account (display-name, avatar, pronouns, status...),',
    'kept across reconnects and the same on every server. <target> is * (you) or',
    'a nick. SET without a value removes the key; you must be logged in to set.',
    'SUB chooses the keys you want to hear about (METADATA lines) from users in',
    'your rooms or on your MONITOR list. Limits: the draft/metadata-2 cap value.',
  ],
  USERHOST: [
    'USERHOST <nick>{ <nick>}',
    'Shows up to five users as nick=+user@host: * after the nick for an IRC',
    'operator, - instead of + when away.',
  ],
  ISON: ['ISON <nick>{ <nick>}', 'Answers which of the nicks are online now.'],

  // Server queries
  LUSERS: ['LUSERS', 'Counts users, operators, unknown connections and rooms, with the peak since start.'],
  MOTD: ['MOTD', 'Shows the message of the day.'],
  VERSION: ['VERSION [<server>]', "Shows the server's software version and its features (ISUPPORT)."],
  TIME: ['TIME [<server>]', "Shows the server's time."],
  INFO: ['INFO [<server>]', 'Shows what this server is and since when it runs.'],
  ADMIN: ['ADMIN [<server>]', 'Shows who runs this server and how to reach them.'],
  LINKS: ['LINKS [[<server>] <mask>]', 'Lists the servers of the network this one knows: only itself.'],
  HELP: ['HELP [<subject>]', 'Shows help on a command or topic; HELP alone lists them all.'],
  HELPOP: ['HELPOP [<subject>]', 'The same as HELP, for clients that send HELPOP.'],

  // History
  CHATHISTORY: [
    'CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN <target> ... | TARGETS',
    'Fetches stored messages of a room or a conversation (IRCv3 chathistory):',
    'LATEST <target> <* | msgid=id | timestamp=t> <limit>',
    'BEFORE|AFTER|AROUND <target> <msgid=id | timestamp=t> <limit>',
    'BETWEEN <target> <ref> <ref> <limit>',
    'TARGETS <timestamp=t> <timestamp=t> <limit>: who you talked with',
  ],
  REDACT: [
    'REDACT <target> <msgid> [:<reason>]',
    'Deletes a stored message of a room or conversation from history (IRCv3',
    'draft/message-redaction); clients with that capability are told. Your own',
    'message (sent while logged in) for a while (1 hour by default);',
    'room operators any message of their room, IRC operators any, at any time.',
  ],
  MARKREAD: [
    'MARKREAD <target> [timestamp=<time>]',
    'Reads or moves your read marker of a room or conversation (IRCv3',
    'read-marker); every connection of your account is told.',
  ],

  // Topics
  UMODES: [
    'User modes',
    'B  bot: WHOIS says so (335), WHO shows B, your messages carry the bot tag',
    'i  invisible: WHO and LUSERS do not show you to people who share no room',
    'o  IRC operator: given by OPER; MODE <yournick> -o gives it up',
    'w  receive WALLOPS',
  ],
  CMODES: [
    'Room modes',
    'b <mask>   ban (MODE #room b lists the bans)',
    'e <mask>   ban exception: let past bans (operators list them with MODE #room e)',
    'I <mask>   invite exception: let into a +i room (MODE #room I lists them)',
    '           A mask is nick!user@host with * and ?, or: $a any logged-in user,',
    '           $a:<account>, and in bans $m:<mask>, a mute (may join, not speak).',
    'C          no CTCP to the room (ACTION, /me, still goes)',
    'i          invite only',
    'k <key>    key needed to join',
    'l <n>      at most n members',
    'm          moderated: only voiced users and operators speak',
    'n          no messages from outside the room',
    's          secret: not listed for non-members',
    't          only operators set the topic',
    'o <nick>   operator; v <nick> voice',
  ],
  CAPS: [
    'IRCv3 capabilities',
    'account-notify account-tag away-notify batch cap-notify',
    'draft/account-registration draft/chathistory draft/read-marker echo-message',
    'extended-join invite-notify labeled-response message-tags multi-prefix sasl',
    'server-time setname standard-replies userhost-in-names, and sts with TLS.',
  ],
  NICKSERV: [
    '/msg NickServ <command>',
    'Accounts: REGISTER, IDENTIFY, GHOST, REGAIN, SET PASSWORD, DROP, INFO.',
    '/msg NickServ HELP explains each.',
  ],
  CHANSERV: [
    '/msg ChanServ <command>',
    'Registered rooms keep topic, modes, bans and operators: REGISTER, DROP, OP, INFO.',
    '/msg ChanServ HELP explains each.',
  ],
};

/** The topics HELP alone lists after the commands. */
export const HELP_TOPICS = ['UMODES', 'CMODES', 'CAPS', 'NICKSERV', 'CHANSERV'];
