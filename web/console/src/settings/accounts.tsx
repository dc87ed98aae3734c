// Accounts: console users (create, remove) and API tokens for machines (create, shown once; revoke).
// Every input is labelled.
import { useEffect, useState } from 'preact/hooks';
import { api, fmtTime, get, post } from '../api.js';
import { ActionButton, Card, Field, Notice, errorText } from '../ui.js';
import { t } from '../../../i18n/i18n.js';

/** The roles an account or token can have, lowest first (kiosk: a wall TV that shows the wallboard only). */
export const ROLES = ['kiosk', 'viewer', 'supervisor', 'technician'] as const;

interface User {
  username: string;
  role: string;
  locked: boolean;
  lastLoginAt: number | null;
}
interface Token {
  id: number;
  name: string;
  role: string;
  createdAt: number;
  createdBy?: string;
}

type Msg = { kind: 'ok' | 'error'; text: string } | null;

function RoleSelect(props: { name: string; value: string; onChange: (v: string) => void }) {
  return (
    <Field label={t('settings:accounts.role')} hint={props.value === 'kiosk' ? t('settings:accounts.kioskHint') : undefined}>
      <select name={props.name} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {t(`roles:${r}`)}
          </option>
        ))}
      </select>
    </Field>
  );
}

function Users(props: { self: string }) {
  const [users, setUsers] = useState<User[]>([]);
  const [form, setForm] = useState({ username: '', password: '', role: 'supervisor' });
  const [msg, setMsg] = useState<Msg>(null);
  const load = () => void get<{ users: User[] }>('/api/v1/users').then((r) => setUsers(r.users));
  useEffect(load, []);
  return (
    <Card title={t('settings:accounts.usersTitle')} testId="users">
      <table class="table">
        <thead>
          <tr>
            <th>{t('settings:accounts.username')}</th>
            <th>{t('settings:accounts.role')}</th>
            <th>{t('settings:accounts.lastLogin')}</th>
            <th>
              <span class="sr-only">{t('settings:agents.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.username} data-testid={`user-${u.username}`}>
              <td>
                {u.username}
                {u.locked ? ` (${t('settings:accounts.locked')})` : ''}
              </td>
              <td>{t(`roles:${u.role}`)}</td>
              <td class="muted">{u.lastLoginAt ? fmtTime(u.lastLoginAt) : t('settings:accounts.never')}</td>
              <td>
                {u.username === props.self ? null : (
                  <ActionButton
                    kind="danger"
                    testId={`user-remove-${u.username}`}
                    onClick={async () => {
                      if (!confirm(t('settings:accounts.confirmRemove', { user: u.username }))) return;
                      try {
                        await api('DELETE', `/api/v1/users/${encodeURIComponent(u.username)}`);
                        setMsg({ kind: 'ok', text: t('settings:accounts.removed', { user: u.username }) });
                        load();
                      } catch (err) {
                        setMsg({ kind: 'error', text: errorText(err) });
                      }
                    }}
                  >
                    {t('settings:accounts.remove', { user: u.username })}
                  </ActionButton>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t('settings:accounts.addUser')}</h3>
      <div class="row wrap">
        <Field label={t('settings:accounts.username')}>
          <input
            name="new-username"
            autocomplete="off"
            value={form.username}
            onInput={(e) => setForm({ ...form, username: e.currentTarget.value })}
          />
        </Field>
        <Field label={t('settings:accounts.password')}>
          <input
            name="new-password"
            type="password"
            autocomplete="new-password"
            value={form.password}
            onInput={(e) => setForm({ ...form, password: e.currentTarget.value })}
          />
        </Field>
        <RoleSelect name="new-role" value={form.role} onChange={(role) => setForm({ ...form, role })} />
        <ActionButton
          testId="user-add"
          onClick={async () => {
            try {
              await post('/api/v1/users', form);
              setMsg({ kind: 'ok', text: t('settings:accounts.createdMsg', { user: form.username }) });
              setForm({ username: '', password: '', role: 'supervisor' });
              load();
            } catch (err) {
              setMsg({ kind: 'error', text: errorText(err) });
            }
          }}
        >
          {t('settings:accounts.addUser')}
        </ActionButton>
      </div>
      {msg ? (
        <Notice kind={msg.kind} testId="users-result">
          {msg.text}
        </Notice>
      ) : null}
    </Card>
  );
}

function Tokens() {
  const [tokens, setTokens] = useState<Token[]>([]);
  const [form, setForm] = useState({ name: '', role: 'viewer' });
  const [secret, setSecret] = useState<string | null>(null);
  const [msg, setMsg] = useState<Msg>(null);
  const load = () => void get<{ tokens: Token[] }>('/api/v1/tokens').then((r) => setTokens(r.tokens));
  useEffect(load, []);
  return (
    <Card title={t('settings:accounts.tokensTitle')} testId="tokens">
      <p class="muted">{t('settings:accounts.tokensHelp')}</p>
      <table class="table">
        <thead>
          <tr>
            <th>{t('settings:accounts.tokenName')}</th>
            <th>{t('settings:accounts.role')}</th>
            <th>{t('settings:accounts.created')}</th>
            <th>
              <span class="sr-only">{t('settings:agents.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((k) => (
            <tr key={k.id} data-testid={`token-${k.name}`}>
              <td>{k.name}</td>
              <td>{t(`roles:${k.role}`)}</td>
              <td class="muted">{fmtTime(k.createdAt)}</td>
              <td>
                <ActionButton
                  kind="danger"
                  testId={`token-revoke-${k.id}`}
                  onClick={async () => {
                    try {
                      await api('DELETE', `/api/v1/tokens/${k.id}`);
                      load();
                    } catch (err) {
                      setMsg({ kind: 'error', text: errorText(err) });
                    }
                  }}
                >
                  {t('settings:accounts.revoke', { name: k.name })}
                </ActionButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t('settings:accounts.addToken')}</h3>
      <div class="row wrap">
        <Field label={t('settings:accounts.tokenName')}>
          <input
            name="token-name"
            autocomplete="off"
            value={form.name}
            onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
          />
        </Field>
        <RoleSelect name="token-role" value={form.role} onChange={(role) => setForm({ ...form, role })} />
        <ActionButton
          testId="token-add"
          onClick={async () => {
            setSecret(null);
            try {
              const r = await post<{ token: string }>('/api/v1/tokens', form);
              setSecret(r.token);
              setMsg(null);
              setForm({ name: '', role: 'viewer' });
              load();
            } catch (err) {
              setMsg({ kind: 'error', text: errorText(err) });
            }
          }}
        >
          {t('settings:accounts.addToken')}
        </ActionButton>
      </div>
      {secret ? (
        <Notice kind="ok" testId="token-secret">
          {t('settings:accounts.tokenOnce')} <code class="wrap">{secret}</code>
        </Notice>
      ) : null}
      {msg ? <Notice kind={msg.kind}>{msg.text}</Notice> : null}
    </Card>
  );
}

export function Accounts(props: { self: string }) {
  return (
    <>
      <Users self={props.self} />
      <Tokens />
    </>
  );
}
