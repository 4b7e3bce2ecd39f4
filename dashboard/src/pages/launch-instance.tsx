/** Placeholder until the Launch Instance wizard lands (another helper replaces this file). */
import { Link } from '../router';

export function LaunchInstancePage() {
  return (
    <section aria-labelledby="launch-title">
      <h1 id="launch-title">Launch Instance</h1>
      <p>The Launch Instance wizard is being built.</p>
      <Link to="/project/instances">Back to Instances</Link>
    </section>
  );
}
