/**
 * Project > Instances > Launch Instance: Horizon's wizard with the tabs Details, Access &
 * Security, Networking, Post-creation and Advanced (one file each under ./launch). Everything
 * goes through the public APIs. Launch validates the whole form first (model.ts validate): with
 * any problem nothing is sent, the messages show beside their fields and in a summary, and the
 * tab holding the first one opens. An API error is shown with its message and what to do; a
 * success goes to the Instances page, where the new server appears within one poll.
 */
import { useState } from 'react';
import { availabilityZones, createServer, limits, listFlavors, listKeypairs, listServerGroups } from '../api/compute';
import { ApiError } from '../api/http';
import { listImages, type Image } from '../api/image';
import { listNetworks, listSecurityGroups, type Network, type SecurityGroup } from '../api/network';
import { listVolumes, type Volume } from '../api/volume';
import { Alert } from '../components/alert';
import { errorMessage, useLoad } from '../hooks';
import { Link, navigate } from '../router';
import { useSignedIn } from '../session';
import { AccessTab } from './launch/access-tab';
import { AdvancedTab } from './launch/advanced-tab';
import { DetailsTab } from './launch/details-tab';
import { adviceFor, EMPTY_FORM, FIELD_TAB, TABS, toRequest, validate, type Field, type LaunchForm, type TabKey } from './launch/model';
import { NetworkingTab } from './launch/networking-tab';
import { PostCreationTab } from './launch/post-creation-tab';

const none = <T,>(): Promise<T[]> => Promise.resolve([]);

export function LaunchInstancePage() {
  const s = useSignedIn();
  const { compute, image, network, volume } = s.endpoints;
  const flavors = useLoad(() => listFlavors(compute), [compute]);
  const quota = useLoad(() => limits(compute), [compute]);
  const zones = useLoad(() => availabilityZones(compute), [compute]);
  const keypairs = useLoad(() => listKeypairs(compute), [compute]);
  const serverGroups = useLoad(() => listServerGroups(compute), [compute]);
  const images = useLoad(() => (image ? listImages(image) : none<Image>()), [image]);
  const volumes = useLoad(() => (volume ? listVolumes(volume) : none<Volume>()), [volume]);
  const networks = useLoad(() => (network ? listNetworks(network) : none<Network>()), [network]);
  const groups = useLoad(() => (network ? listSecurityGroups(network) : none<SecurityGroup>()), [network]);

  // "Launch" on the Images page opens /project/instances/launch?image=<id>: that image is preselected.
  const [form, setForm] = useState<LaunchForm>(() => ({ ...EMPTY_FORM, imageId: new URLSearchParams(window.location.search).get('image') ?? EMPTY_FORM.imageId }));
  const [tab, setTab] = useState<TabKey>('details');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState<{ message: string; advice: string } | null>(null);
  const set = (patch: Partial<LaunchForm>) => setForm((f) => ({ ...f, ...patch }));

  const problems = validate(form, flavors.data, quota.data);
  const shown: Partial<Record<Field, string>> = tried ? problems : { quota: problems.quota };
  const loadErrors = [flavors, quota, zones, keypairs, serverGroups, images, volumes, networks, groups].map((l) => l.error).filter(Boolean);
  const tabIndex = TABS.findIndex(([k]) => k === tab);

  const launch = async () => {
    setTried(true);
    setApiError(null);
    const first = (Object.keys(problems) as Field[])[0];
    if (first) {
      setTab(FIELD_TAB[first]);
      return;
    }
    setBusy(true);
    try {
      const { server, hints } = toRequest(form);
      await createServer(compute, server, hints);
      navigate('/project/instances');
    } catch (e) {
      const message = errorMessage(e);
      setApiError({ message, advice: adviceFor(e instanceof ApiError ? e.status : 0, message) });
      quota.reload();
    } finally {
      setBusy(false);
    }
  };

  const select = (k: TabKey, focus = false) => {
    setTab(k);
    if (focus) document.getElementById(`launch-tab-${k}`)?.focus();
  };
  const count = Object.keys(problems).length;

  return (
    <section aria-labelledby="launch-title">
      <p className="crumbs">
        <Link to="/project/instances">Instances</Link> / Launch Instance
      </p>
      <div className="page-head">
        <h1 id="launch-title">Launch Instance</h1>
      </div>
      {loadErrors.map((e) => (
        <Alert key={e}>{e}</Alert>
      ))}
      {tried && count > 0 && (
        <Alert>
          Nothing was sent. Correct {count === 1 ? 'this problem' : `these ${count} problems`}:
          <ul>
            {Object.entries(problems).map(([k, m]) => (
              <li key={k}>{m}</li>
            ))}
          </ul>
        </Alert>
      )}
      {apiError && (
        <Alert onDismiss={() => setApiError(null)}>
          The instance was not launched: {apiError.message} {apiError.advice}
        </Alert>
      )}
      <div role="tablist" aria-label="Launch Instance" className="tabs">
        {TABS.map(([key, label], i) => (
          <button
            key={key}
            type="button"
            role="tab"
            id={`launch-tab-${key}`}
            aria-selected={tab === key}
            aria-controls={`launch-panel-${key}`}
            tabIndex={tab === key ? 0 : -1}
            onClick={() => select(key)}
            onKeyDown={(e) => {
              const n = TABS.length;
              const to = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
              if (to === undefined) return;
              e.preventDefault();
              select(TABS[to][0], true);
            }}
          >
            {label}
            {key === 'details' && tried && count > 0 ? ' (!)' : ''}
          </button>
        ))}
      </div>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void launch();
        }}
      >
        {TABS.map(([key]) => (
          <div key={key} role="tabpanel" id={`launch-panel-${key}`} aria-labelledby={`launch-tab-${key}`} className="panel" hidden={tab !== key}>
            {key === 'details' && (
              <DetailsTab
                form={form}
                set={set}
                errors={shown}
                zones={zones.data}
                flavors={flavors.data}
                limits={quota.data}
                images={images.data}
                volumes={volumes.data}
                volumesAvailable={!!volume}
              />
            )}
            {key === 'access' && <AccessTab form={form} set={set} compute={compute} keypairs={keypairs.data} reloadKeypairs={keypairs.reload} groups={groups.data} />}
            {key === 'networking' && <NetworkingTab form={form} set={set} networks={networks.data} />}
            {key === 'post' && <PostCreationTab form={form} set={set} />}
            {key === 'advanced' && <AdvancedTab form={form} set={set} groups={serverGroups.data} />}
          </div>
        ))}
        <div className="toolbar">
          <button type="button" onClick={() => navigate('/project/instances')}>
            Cancel
          </button>
          <button type="button" disabled={tabIndex === 0} onClick={() => select(TABS[tabIndex - 1][0])}>
            Back
          </button>
          <button type="button" disabled={tabIndex === TABS.length - 1} onClick={() => select(TABS[tabIndex + 1][0])}>
            Next
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Launching…' : 'Launch Instance'}
          </button>
        </div>
      </form>
    </section>
  );
}
