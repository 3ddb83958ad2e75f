import { expect } from 'chai';
import { NODE_PORTS, nodePortServices } from '../../src/exposure.js';

describe('dev: NodePort Services', () => {
  it("select the operator's pods of each component on its fixed port, and are not the operator's", () => {
    const services = nodePortServices('chat', 'default') as {
      metadata: { name: string; labels: Record<string, string> };
      spec: {
        type: string;
        selector: Record<string, string>;
        ports: { nodePort: number; targetPort: string }[];
      };
    }[];
    expect(services.map((s) => s.metadata.name)).to.deep.equal([
      'chat-message-nodeport',
      'chat-auth-nodeport',
      'chat-notification-nodeport',
    ]);
    const message = services[0]!;
    expect(message.spec.type).to.equal('NodePort');
    expect(message.spec.selector).to.deep.equal({
      'app.kubernetes.io/name': 'message',
      'app.kubernetes.io/instance': 'chat',
    });
    expect(message.spec.ports[0]).to.include({ nodePort: NODE_PORTS.message, targetPort: 'http' });
    // Prometheus keeps only Services labelled part-of=chatcluster: these must not be scraped twice.
    expect(message.metadata.labels['app.kubernetes.io/part-of']).to.equal(undefined);
  });
});
