/**
 * One scheduling decision per instance: rank hosts from the cache, claim the chosen one in the
 * DB (atomically), retry the next host when the claim loses a race, and answer the chosen host
 * plus unclaimed alternates. All-or-nothing per request: if any instance of a multi-create
 * cannot be placed, the claims already made for the others are released and NoValidHost says
 * why, per filter, with numbers.
 */
import type { Sql } from '../db/sql.js';
import type { SchedulerConfig } from '../config.js';
import type { Selection } from '../compute/rpcapi.js';
import { claim, release } from './claims.js';
import { HostStateCache } from './host-state-cache.js';
import { flavorResources, type HostState } from './host-state.js';
import { makeFilters, type HostFilter } from './filters/index.js';
import { makeWeighers, type WeightedWeigher } from './weighers/index.js';
import { pickIndex, rankHosts, type Ranking } from './select.js';
import { CandidateIndex } from './candidates.js';
import { RankMemo } from './rank-memo.js';
import { NAME as AZ_FILTER } from './filters/availability-zone-filter.js';
import { addClaimLosses, noValidHostError } from './no-valid-host.js';
import type { RequestSpec } from './rpcapi.js';
import { logger } from '../util/log.js';

const log = logger('scheduler');

/** A cache older than this is reloaded once before answering NoValidHost. */
const RECHECK_AGE_MS = 50;

export class Scheduler {
  readonly cache: HostStateCache;
  private readonly filters: HostFilter[];
  private readonly weighers: WeightedWeigher[];
  private readonly candidates: CandidateIndex;
  private readonly memo: RankMemo;
  /** Where decision time goes (ms, cumulative since start; for benchmarks and debugging). */
  readonly stats = { rankings: 0, rankMs: 0, claims: 0, claimMs: 0, lostClaims: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly config: SchedulerConfig,
    private readonly random: () => number = Math.random,
  ) {
    this.cache = new HostStateCache(sql);
    this.filters = makeFilters(config.filters, config);
    this.weighers = makeWeighers(config.weighers);
    this.candidates = new CandidateIndex(this.cache, config.filters.includes(AZ_FILTER));
    this.memo = new RankMemo(this.cache);
  }

  /**
   * The best `limit` hosts for spec, best first (exactly what rankHosts over every host would
   * answer): pre-filtered candidates (availability zone, requested host), then the incremental
   * ranking of alike requests when it applies, else a full pass over the candidates.
   */
  private best(spec: RequestSpec, exclude: Set<string>, limit: number): HostState[] {
    const c = this.candidates.candidates(spec, exclude);
    const memo = exclude.size === 0 ? this.memo.best(spec, c.hosts, this.filters, this.weighers, limit) : null;
    return memo ?? rankHosts(c.hosts, spec, this.filters, this.weighers, limit).ranked;
  }

  /**
   * Why no host passed: every host of the cache ranked with every filter, so that NoValidHost
   * also counts what the pre-filters left out ("2 of 3 hosts are not in availability zone 'az1'").
   */
  private explain(spec: RequestSpec, exclude: Set<string>): Ranking {
    return rankHosts(this.candidates.everything(exclude), spec, this.filters, this.weighers, 1);
  }

  async selectDestinations(spec: RequestSpec, numAlternates = 0): Promise<Selection[][]> {
    await this.cache.ensureFresh();
    const res = flavorResources(spec.flavor);
    const limit = Math.max(1, this.config.hostSubsetSize) + Math.max(0, numAlternates);
    const out: Selection[][] = [];
    const claimed: { consumer: string; node: string }[] = [];
    try {
      for (const [k, consumer] of spec.instance_uuids.entries()) {
        // With a server group, the instances placed so far count as placed members: rank each
        // with only the not-yet-placed ones as "this request" (the affinity filter's contract).
        const one = spec.group && k > 0 ? { ...spec, instance_uuids: spec.instance_uuids.slice(k) } : spec;
        const lost = new Set<string>();
        const losses = new Map<string, string>();
        let rechecked = false;
        for (;;) {
          const t0 = performance.now();
          const ranked = this.best(one, lost, limit);
          const t1 = performance.now();
          this.stats.rankings++;
          this.stats.rankMs += t1 - t0;
          if (ranked.length === 0) {
            if (!rechecked && this.cache.ageMs() > RECHECK_AGE_MS) {
              rechecked = true;
              await this.cache.reload();
              continue;
            }
            const e = noValidHostError(this.explain(one, lost), one, this.cache.size);
            throw addClaimLosses(e, [...losses].map(([node, reason]) => ({ host: this.cache.get(node)?.host ?? node, reason })));
          }
          const i = pickIndex(ranked.length, this.config.hostSubsetSize, this.random);
          const chosen = ranked[i];
          const c = await claim(this.sql, {
            node_uuid: chosen.node_uuid,
            consumer_uuid: consumer,
            resources: res,
            project_id: spec.project_id,
            user_id: spec.user_id,
            group: one.group ?? null,
          });
          this.stats.claims++;
          this.stats.claimMs += performance.now() - t1;
          if (!c.ok) {
            this.stats.lostClaims++;
            log.debug(`claim for ${consumer} on ${chosen.host} lost: ${c.reason}`);
            // The cache was behind: refresh the node and let the filters judge it again;
            // a node that loses twice is skipped so the loop always ends.
            if (losses.has(chosen.node_uuid)) lost.add(chosen.node_uuid);
            losses.set(chosen.node_uuid, c.reason);
            await this.cache.refreshNode(chosen.node_uuid);
            continue;
          }
          this.cache.addUsage(chosen.node_uuid, res, consumer);
          claimed.push({ consumer, node: chosen.node_uuid });
          const alternates = ranked.filter((_, j) => j !== i).slice(0, Math.max(0, numAlternates));
          out.push([chosen, ...alternates].map(selection));
          break;
        }
      }
    } catch (e) {
      for (const c of claimed) await release(this.sql, c.consumer, c.node);
      for (const c of claimed) await this.cache.refreshNode(c.node);
      throw e;
    }
    return out;
  }
}

const selection = (h: HostState): Selection => ({ host: h.host, node: h.node, node_uuid: h.node_uuid, availability_zone: h.availability_zone });
