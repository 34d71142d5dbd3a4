package dev.curvlab.bench;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.VjpResult;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.dl4j.Dl4jImport;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.LayerProducts;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Gradient, HVP, a block of 16 HVPs and a GGN-vector product on the anchor's small (10-32-32-1
 * tanh, mse, B=128) and medium (20-64-64-3 tanh, ce, B=256) problems, by the generic engine (core
 * autodiff), by the layer engine ({@link LayerProducts}), and the gradient also by DL4J's own
 * backprop ({@code MultiLayerNetwork.computeGradientAndScore}) on the same network, parameters
 * and batch.
 *
 * <p>The layer engine's products at one point (an engine used only at theta) reuse its forward and
 * backward pass, as every Lanczos and Hutch++ iteration does; {@code *NewPoint} and the gradient
 * alternate between two parameter vectors, so each call pays for the base passes too (what
 * PyTorch's double backward always pays).
 * PyTorch figures: {@code shared/anchors/torch_anchor.py} the same hour.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx4g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class ProductsBench {
    @Param({"small", "medium"})
    public String problem;

    private ModelObjective mean;
    private ModelObjective sum;
    private INDArray theta;
    private INDArray theta2;
    private INDArray v1;
    private INDArray v16;
    private LayerProducts layers;
    private LayerProducts layersAtOnePoint;
    private MultiLayerNetwork dl4j;
    private boolean flip;

    @Setup(Level.Trial)
    public void setup() {
        Problems.Instance p = Problems.named(problem).build();
        mean = new ModelObjective(p.model(), p.problem().loss(), p.data(), Reduction.MEAN);
        sum = new ModelObjective(p.model(), p.problem().loss(), p.data(), Reduction.SUM);
        theta = p.theta();
        theta2 = theta.mul(0.9);
        int n = (int) theta.length();
        Random rnd = new Random(Problems.SEED + 1);
        v1 = Problems.gaussian(rnd, 1, n, 1.0);
        v16 = Problems.gaussian(rnd, 16, n, 1.0);
        layers = new LayerProducts(p.model(), p.problem().loss());
        layersAtOnePoint = new LayerProducts(p.model(), p.problem().loss());
        dl4j = dl4jNetwork(p.problem(), p.model(), theta);
        dl4j.setInput(p.data().x());
        dl4j.setLabels(dl4jLabels(p));
    }

    /** The same network in DL4J (tanh hidden layers; identity + MSE, or softmax + MCXENT = curvlab's ce on logits), same parameters. */
    static MultiLayerNetwork dl4jNetwork(Problems.Mlp mlp, Sequential model, INDArray theta) {
        int[] sizes = mlp.sizes();
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(Problems.SEED).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).list();
        for (int l = 1; l < sizes.length - 1; l++) {
            b.layer(new DenseLayer.Builder().nIn(sizes[l - 1]).nOut(sizes[l]).activation(Activation.TANH).build());
        }
        boolean ce = mlp.loss() == Losses.CROSS_ENTROPY;
        b.layer(new OutputLayer.Builder(ce ? LossFunction.MCXENT : LossFunction.MSE).nIn(sizes[sizes.length - 2]).nOut(sizes[sizes.length - 1])
                .activation(ce ? Activation.SOFTMAX : Activation.IDENTITY).build());
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        net.setParams(Dl4jImport.toDl4jOrder(model, theta));
        return net;
    }

    private static INDArray dl4jLabels(Problems.Instance p) {
        INDArray y = p.data().y();
        if (p.problem().loss() != Losses.CROSS_ENTROPY) {
            return y;
        }
        int out = p.model().outputSize();
        INDArray onehot = Nd4j.zeros(DataType.DOUBLE, y.length(), out);
        for (int i = 0; i < y.length(); i++) {
            onehot.putScalar(i, (long) y.getDouble(i), 1.0);
        }
        return onehot;
    }

    private INDArray point() {
        flip = !flip;
        return flip ? theta : theta2;
    }

    @Benchmark
    public void gradientGeneric(Blackhole bh) {
        INDArray g = mean.gradient(theta);
        bh.consume(g);
        Problems.release(g);
    }

    @Benchmark
    public void gradientLayers(Blackhole bh) {
        INDArray g = layers.gradient(mean, point()).gradient();
        bh.consume(g);
        Problems.release(g);
    }

    @Benchmark
    public void gradientDl4j(Blackhole bh) {
        dl4j.computeGradientAndScore();
        bh.consume(dl4j.gradient().gradient());
    }

    @Benchmark
    public void hvpGeneric(Blackhole bh) {
        INDArray hv = Autodiff.hvp(mean).apply(Tensor.of(theta), Tensor.of(v1)).array();
        bh.consume(hv);
        Problems.release(hv);
    }

    @Benchmark
    public void hvpLayers(Blackhole bh) {
        INDArray hv = layersAtOnePoint.hessianProduct(mean, theta, v1);
        bh.consume(hv);
        Problems.release(hv);
    }

    @Benchmark
    public void hvpLayersNewPoint(Blackhole bh) {
        INDArray hv = layers.hessianProduct(mean, point(), v1);
        bh.consume(hv);
        Problems.release(hv);
    }

    @Benchmark
    public void hvp16Generic(Blackhole bh) {
        INDArray hv = Autodiff.hvp(mean).apply(Tensor.of(theta), Tensor.of(v16)).array();
        bh.consume(hv);
        Problems.release(hv);
    }

    @Benchmark
    public void hvp16Layers(Blackhole bh) {
        INDArray hv = layersAtOnePoint.hessianProduct(mean, theta, v16);
        bh.consume(hv);
        Problems.release(hv);
    }

    /** The block at a new point: one base pass (forward with s'', backward) and 16 R-passes, against {@link #hvpLayersNewPoint}'s one. */
    @Benchmark
    public void hvp16LayersNewPoint(Blackhole bh) {
        INDArray hv = layers.hessianProduct(mean, point(), v16);
        bh.consume(hv);
        Problems.release(hv);
    }

    @Benchmark
    public void ggnvpGeneric(Blackhole bh) {
        INDArray gv = ArrayScope.run(() -> {
            Tensor x = mean.x();
            Tensor y = mean.preparedTargets();
            Sequential model = mean.model();
            VjpResult network = Autodiff.vjp(t -> model.forward(t, x), Tensor.of(theta));
            Tensor jv = Autodiff.jvp(t -> model.forward(t, x), Tensor.of(theta), Tensor.of(v1)).tangent();
            Tensor hjv = Autodiff.hvp(f -> mean.loss().evaluate(f, y, Reduction.MEAN)).apply(network.value(), jv);
            return network.pullbackBlock(hjv);
        }).array();
        bh.consume(gv);
        Problems.release(gv);
    }

    @Benchmark
    public void ggnvpLayers(Blackhole bh) {
        INDArray gv = layersAtOnePoint.ggnProduct(mean, theta, v1);
        bh.consume(gv);
        Problems.release(gv);
    }

    @Benchmark
    public void ggnvpLayersNewPoint(Blackhole bh) {
        INDArray gv = layers.ggnProduct(mean, point(), v1);
        bh.consume(gv);
        Problems.release(gv);
    }
}
