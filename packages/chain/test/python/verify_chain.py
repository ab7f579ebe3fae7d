"""Independent check of a portlab chain with python-bitcoinlib (Debian's python3-bitcoinlib).

Reads JSON from stdin: {"blocks": [hex of block 1, block 2, ...]} (genesis excluded) and prints JSON:
the ids python-bitcoinlib computes, and the first error it finds, if any. For each block it checks
what Bitcoin Core's CheckBlock does (proof of work against nBits, Merkle root, coinbase first, sizes),
that the block links to the previous one, and every input's signature with VerifyScript.
"""
import json
import sys

import bitcoin
from bitcoin.core import CBlock, CheckBlock, b2lx, COIN
from bitcoin.core.scripteval import SCRIPT_VERIFY_P2SH, VerifyScript

bitcoin.SelectParams('regtest')
REGTEST_GENESIS = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206'


def main():
    data = json.load(sys.stdin)
    outputs = {}  # (txid bytes, n) -> CTxOut
    prev = REGTEST_GENESIS
    ids, txids, inputs = [], [], 0
    try:
        for height, hexblock in enumerate(data['blocks'], start=1):
            block = CBlock.deserialize(bytes.fromhex(hexblock))
            CheckBlock(block)
            if b2lx(block.hashPrevBlock) != prev:
                raise ValueError('block %d does not link to block %d' % (height, height - 1))
            fees = 0
            for tx in block.vtx[1:]:
                value_in = 0
                for i, txin in enumerate(tx.vin):
                    key = (txin.prevout.hash, txin.prevout.n)
                    if key not in outputs:
                        raise ValueError('block %d: input spends a missing output' % height)
                    prevout = outputs.pop(key)
                    VerifyScript(txin.scriptSig, prevout.scriptPubKey, tx, i, flags=(SCRIPT_VERIFY_P2SH,))
                    value_in += prevout.nValue
                    inputs += 1
                fees += value_in - sum(o.nValue for o in tx.vout)
                # A later transaction of the same block may spend this one's outputs.
                for n, out in enumerate(tx.vout):
                    outputs[(tx.GetTxid(), n)] = out
            if sum(o.nValue for o in block.vtx[0].vout) > 50 * COIN + fees:
                raise ValueError('block %d: coinbase pays more than reward + fees' % height)
            for n, out in enumerate(block.vtx[0].vout):
                outputs[(block.vtx[0].GetTxid(), n)] = out
            txids.extend(b2lx(tx.GetTxid()) for tx in block.vtx)
            prev = b2lx(block.GetHash())
            ids.append(prev)
    except Exception as err:  # report, the test decides
        print(json.dumps({'ok': False, 'error': '%s: %s' % (type(err).__name__, err), 'ids': ids}))
        return
    print(json.dumps({'ok': True, 'ids': ids, 'txids': txids, 'inputs': inputs}))


main()
