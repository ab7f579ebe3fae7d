/**
 * The default push rules (client-server API §"Predefined rules"), for GET /pushrules/. Clients
 * (matrix-js-sdk, Element) read them at start; this server sends no push notifications, but the rules
 * are the user's and the spec gives their defaults. The user-specific ones name the user.
 */
export function defaultPushRules(userId: string, localpart: string) {
  const notify = ['notify'];
  const sound = (value: string) => ({ set_tweak: 'sound', value });
  const highlight = { set_tweak: 'highlight' };
  const rule = (rule_id: string, conditions: unknown[], actions: unknown[]) => ({
    rule_id,
    default: true,
    enabled: true,
    conditions,
    actions,
  });
  const eventMatch = (key: string, pattern: string) => ({ kind: 'event_match', key, pattern });
  return {
    global: {
      override: [
        { ...rule('.m.rule.master', [], []), enabled: false },
        rule('.m.rule.suppress_notices', [eventMatch('content.msgtype', 'm.notice')], []),
        rule(
          '.m.rule.invite_for_me',
          [
            eventMatch('type', 'm.room.member'),
            eventMatch('content.membership', 'invite'),
            eventMatch('state_key', userId),
          ],
          [...notify, sound('default')],
        ),
        rule('.m.rule.member_event', [eventMatch('type', 'm.room.member')], []),
        rule(
          '.m.rule.is_user_mention',
          [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId }],
          [...notify, sound('default'), highlight],
        ),
        // Deprecated in the spec (v1.7) but still among its defaults: older clients look for them.
        rule(
          '.m.rule.contains_display_name',
          [{ kind: 'contains_display_name' }],
          [...notify, sound('default'), highlight],
        ),
        rule(
          '.m.rule.is_room_mention',
          [
            { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
            { kind: 'sender_notification_permission', key: 'room' },
          ],
          [...notify, highlight],
        ),
        rule(
          '.m.rule.roomnotif',
          [eventMatch('content.body', '@room'), { kind: 'sender_notification_permission', key: 'room' }],
          [...notify, highlight],
        ),
        rule(
          '.m.rule.tombstone',
          [eventMatch('type', 'm.room.tombstone'), eventMatch('state_key', '')],
          [...notify, highlight],
        ),
        rule('.m.rule.reaction', [eventMatch('type', 'm.reaction')], []),
        rule(
          '.m.rule.room.server_acl',
          [eventMatch('type', 'm.room.server_acl'), eventMatch('state_key', '')],
          [],
        ),
        rule(
          '.m.rule.suppress_edits',
          [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }],
          [],
        ),
      ],
      content: [
        {
          ...rule('.m.rule.contains_user_name', [], [...notify, sound('default'), highlight]),
          pattern: localpart,
        },
      ],
      room: [],
      sender: [],
      underride: [
        rule('.m.rule.call', [eventMatch('type', 'm.call.invite')], [...notify, sound('ring')]),
        rule(
          '.m.rule.encrypted_room_one_to_one',
          [{ kind: 'room_member_count', is: '2' }, eventMatch('type', 'm.room.encrypted')],
          [...notify, sound('default')],
        ),
        rule(
          '.m.rule.room_one_to_one',
          [{ kind: 'room_member_count', is: '2' }, eventMatch('type', 'm.room.message')],
          [...notify, sound('default')],
        ),
        rule('.m.rule.message', [eventMatch('type', 'm.room.message')], notify),
        rule('.m.rule.encrypted', [eventMatch('type', 'm.room.encrypted')], notify),
      ],
    },
  };
}
