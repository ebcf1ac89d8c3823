package fr.maillage.analysis;

import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenizerFactory;

/** The whole input as one token: for analyzers over exact values (names compared folded and lowercased). */
@NamedComponent("maillage_keyword")
public final class KeywordTokenizerFactory implements TokenizerFactory {
    @Override
    public Tokenizer create() {
        return new KeywordTokenizer();
    }
}
