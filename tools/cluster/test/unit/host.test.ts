import { expect } from 'chai';
import { withoutClusterChains } from '../../src/host.js';

describe('cluster host: iptables clean-up', () => {
  it("drops kube-proxy's and the CNI plugins' chains and the rules naming them, keeps the rest", () => {
    const dump = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':CNI-HOSTPORT-DNAT - [0:0]',
      ':DOCKER - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      '-A PREROUTING -j CNI-HOSTPORT-DNAT',
      'COMMIT',
    ].join('\n');
    expect(withoutClusterChains(dump).split('\n')).to.deep.equal([
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':DOCKER - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      'COMMIT',
    ]);
  });
});
