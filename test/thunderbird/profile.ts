/**
 * A fresh Thunderbird profile for the test: its prefs.js holds every preference the run needs, in
 * one place. Two jobs: (1) remote control on a free port; (2) no traffic out of the machine. For (2)
 * each feature that calls a Mozilla or Google server is off, and as a last guard every host name
 * resolves to 127.0.0.1, so whatever is left can only knock on this machine's own door.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ProfileOptions {
  marionettePort: number;
  /** The lab's HTTP port: where port 80 goes, so the autoconfig lookup reaches the web app. */
  httpPort: number;
  /** The lab's HTTPS port: where port 443 goes. */
  httpsPort: number;
}

type Pref = [name: string, value: string | number | boolean, why: string];

export function prefsFor({ marionettePort, httpPort, httpsPort }: ProfileOptions): Pref[] {
  return [
    ['marionette.port', marionettePort, 'remote control on a free port, never the default 2828'],

    // Name resolution and routing: the last guard, and what lets autoconfig find the lab.
    ['network.dns.forceResolve', '127.0.0.1', 'every host name (lab.test, any Mozilla server) is 127.0.0.1'],
    ['network.trr.mode', 5, 'no DNS over HTTPS'],
    ['network.proxy.type', 0, 'no proxy, whatever the environment says'],
    [
      'network.socket.forcePort',
      `80=${httpPort};443=${httpsPort}`,
      'Thunderbird asks autoconfig on 80/443; the lab web app is on free ports',
    ],
    ['network.dns.disablePrefetch', true, 'no speculative lookups'],
    ['network.prefetch-next', false, 'no link prefetching'],
    ['network.captive-portal-service.enabled', false, 'no captive portal probe'],
    ['network.connectivity-service.enabled', false, 'no connectivity probe'],

    // Certificates: the lab's is self-signed, with nothing to ask an OCSP responder about.
    ['security.OCSP.enabled', 0, 'no OCSP requests'],
    ['security.remote_settings.crlite_filters.enabled', false, 'no CRLite downloads'],
    ['security.remote_settings.intermediates.enabled', false, 'no intermediate certificate downloads'],

    // Updates, add-ons and remote settings.
    ['app.update.disabledForTesting', true, 'no update checks'],
    ['app.update.auto', false, 'no update downloads'],
    ['extensions.update.enabled', false, 'no add-on update checks'],
    ['extensions.getAddons.cache.enabled', false, 'no add-on metadata fetches'],
    ['extensions.blocklist.enabled', false, 'no blocklist fetches'],
    ['extensions.systemAddon.update.enabled', false, 'no system add-on updates'],
    [
      'services.settings.server',
      'data:,#remote-settings-dummy/v1',
      'remote settings read nothing from a server',
    ],
    ['media.gmp-manager.updateEnabled', false, 'no media plugin downloads'],

    // Telemetry and data reporting.
    ['toolkit.telemetry.enabled', false, 'no telemetry'],
    ['toolkit.telemetry.unified', false, 'no telemetry'],
    ['toolkit.telemetry.archive.enabled', false, 'no telemetry archive'],
    ['toolkit.telemetry.server', '', 'nowhere to send telemetry'],
    ['datareporting.healthreport.uploadEnabled', false, 'no health report'],
    ['datareporting.policy.dataSubmissionEnabled', false, 'no data submission'],
    ['datareporting.policy.dataSubmissionPolicyBypassNotification', true, 'no data-choices bar'],
    ['browser.safebrowsing.malware.enabled', false, 'no Safe Browsing list downloads'],
    ['browser.safebrowsing.phishing.enabled', false, 'no Safe Browsing list downloads'],
    ['browser.safebrowsing.downloads.enabled', false, 'no Safe Browsing lookups'],
    ['geo.enabled', false, 'no geolocation requests'],

    // Thunderbird's own calls home and first-run screens.
    ['mailnews.start_page.enabled', false, 'no start page from live.thunderbird.net'],
    ['mail.inappnotifications.enabled', false, 'no in-app notification fetches'],
    ['mailnews.auto_config_url', '', "no Mozilla ISPDB lookup: the lab's own autoconfig only"],
    ['mailnews.auto_config.fetchFromExchange.enabled', false, 'no Exchange autodiscover requests'],
    ['mailnews.auto_config.guess.enabled', false, 'no guessing of server names'],
    ['mail.shell.checkDefaultClient', false, 'no "make Thunderbird your default" dialog'],
    ['mail.rights.override', true, 'no "know your rights" bar'],
    ['mail.cloud_files.enabled', false, 'no cloud file providers'],
    [
      'app.use_without_mail_account',
      true,
      'the account hub does not open by itself: the test makes the account',
    ],
    ['signon.rememberSignons', true, '"Remember password" works (Marionette would turn it off)'],
  ];
}

export interface ThunderbirdDirs {
  /** Everything below: what the caller removes. */
  dir: string;
  profile: string;
  /** HOME for Thunderbird: it makes ~/.thunderbird, ~/.cache/thunderbird… whatever --profile says. */
  home: string;
}

/** Makes a fresh profile (its prefs.js from prefsFor) and an empty home beside it. */
export function makeProfile(options: ProfileOptions): ThunderbirdDirs {
  const dir = mkdtempSync(path.join(tmpdir(), 'portlab-thunderbird-'));
  const profile = path.join(dir, 'profile');
  const home = path.join(dir, 'home');
  mkdirSync(profile);
  mkdirSync(home);
  const lines = prefsFor(options).map(
    ([name, value, why]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)}); // ${why}`,
  );
  writeFileSync(path.join(profile, 'prefs.js'), `${lines.join('\n')}\n`);
  return { dir, profile, home };
}
