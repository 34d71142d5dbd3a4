package dev.curvlab.examples;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.spectrum.EigenResult;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.data.Standardizer;
import dev.curvlab.nn.dl4j.Dl4jImport;
import dev.curvlab.nn.dl4j.ImportedModel;
import dev.curvlab.nn.loss.Reduction;
import java.util.Arrays;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Analysing a network trained with DL4J: a {@code MultiLayerNetwork} is trained on Iris with
 * DL4J's own trainer, imported into curvlab with the same parameters (outputs and loss checked
 * against DL4J's), and its loss Hessian is computed and summarised: something DL4J itself cannot do.
 *
 * <p>Run: {@code java -cp examples/target/curvlab-examples.jar dev.curvlab.examples.Dl4jAnalysis}
 */
public final class Dl4jAnalysis {
    private Dl4jAnalysis() {
    }

    public static void main(String[] args) throws Exception {
        Launch.configure();
        Dataset iris = Datasets.iris();
        Dataset data = Standardizer.fit(iris).transform(iris);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.DOUBLE).updater(new Adam(0.02))
                .weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(12).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(12).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray onehot = Nd4j.zeros(DataType.DOUBLE, data.n(), 3);
        for (int i = 0; i < data.n(); i++) {
            onehot.putScalar(i, (int) data.y().getDouble(i), 1.0);
        }
        DataSet ds = new DataSet(data.x(), onehot);
        for (int epoch = 0; epoch < 200; epoch++) {
            net.fit(ds);
        }
        System.out.printf("DL4J: trained %s, score (mean cross-entropy) %.6f%n", "4-12(tanh)-3(softmax)", net.score(ds));

        ImportedModel imported = Dl4jImport.fromNetwork(net);
        INDArray theta = imported.parameters();
        INDArray probs = Transforms.softmax(imported.model().predict(theta, data.x()), true);
        double outDiff = Transforms.abs(probs.sub(net.output(data.x())), false).maxNumber().doubleValue();
        double loss = new ModelObjective(imported.model(), imported.loss(), data, Reduction.MEAN).value(theta);
        System.out.printf("curvlab: imported %s with loss %s (logits); max |output difference| %.1e, loss %.6f (DL4J %.6f)%n",
                imported.model().describe(), imported.loss().name(), outDiff, loss, net.score(ds));

        HessianOperator op = new HessianOperator(imported.model(), imported.loss(), data, theta, 0);
        FullHessian.Result h = FullHessian.compute(op, FullHessian.Options.defaults());
        double[] eig = SymmetricEigen.eigenvalues(h.matrix());
        SymmetricEigen.Summary s = SymmetricEigen.summarize(eig, 1e-10);
        EigenResult top = Lanczos.extremal(op, 3, Lanczos.Which.LARGEST);
        System.out.printf("Hessian (N = %d, %s, %.3f s): eigenvalues in [%.4g, %.4g], %d negative, condition %.3g%n", op.size(),
                h.method().name().toLowerCase(), h.seconds(), s.min(), s.max(), s.negative(), s.condition());
        System.out.printf("top 3 by Lanczos %s, dense %s%n", Arrays.toString(top.values()),
                Arrays.toString(new double[] {eig[eig.length - 1], eig[eig.length - 2], eig[eig.length - 3]}));
    }
}
