package dev.curvlab.curvature.laplace;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The Java kernel of the functional covariances against per-sample matrix products. */
class PosteriorPrecisionTest {
    @Test
    void separableCovarianceEqualsTheWeightedGramOfEachSample() {
        // 64 samples x 10 outputs x 128 columns: large enough for the multi-threaded path; odd width 7 for the tail
        for (int w : new int[] {128, 7}) {
            Nd4j.getRandom().setSeed(w);
            int s = 64;
            int out = 10;
            INDArray uq2 = Nd4j.rand(DataType.DOUBLE, s, 5);
            INDArray inv = Nd4j.rand(DataType.DOUBLE, 5, w);
            INDArray bq = Nd4j.randn(DataType.DOUBLE, s, out, w);
            INDArray got = PosteriorPrecision.separableCovariance(uq2, bq, inv);
            INDArray weights = uq2.mmul(inv);
            for (int i = 0; i < s; i++) {
                INDArray b = bq.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
                INDArray want = b.mulRowVector(weights.getRow(i)).mmul(b.transpose());
                INDArray g = got.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
                double err = g.sub(want).norm2Number().doubleValue() / want.norm2Number().doubleValue();
                assertTrue(err < Tolerances.CLOSED_FORM, "sample " + i + " width " + w + ": relative error " + err);
            }
        }
    }
}
