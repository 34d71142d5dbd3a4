package dev.curvlab.curvature.kfac;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Frees the native buffers of per-chunk intermediates at once. A fresh native buffer costs page
 * faults on first touch (about 1 ms per MB here, far more on a loaded machine), a buffer handed back
 * to the allocator is reused without them; the factor loops allocate the same sizes chunk after
 * chunk, so freeing each chunk's arrays keeps them off the page-fault path. Only arrays this
 * package allocated are passed here (never views of parameters or data).
 */
final class Buffers {
    private Buffers() {
    }

    static void free(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a == null) {
                continue;
            }
            DataBuffer d = a.data();
            DataBuffer base = d.originalDataBuffer() != null ? d.originalDataBuffer() : d;
            if (!base.wasClosed() && base.closeable()) {
                base.close();
            }
        }
    }
}
