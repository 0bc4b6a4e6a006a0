//! `CREATE TABLE`, `CREATE VIEW` and Flink's data types.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::*;
use super::error::{error_at, expected, position};
use super::parser::FlinkParser;
use super::types::{FlinkType, FlinkTypeKind, MAX_LENGTH, RowField};
use crate::error::{Result, SluiceError};

impl FlinkParser<'_> {
    pub(super) fn parse_create(&mut self) -> Result<FlinkStatement> {
        let start = self.peek();
        self.expect_word("CREATE")?;
        let or_replace = self.accept_all(&["OR", "REPLACE"]);
        let temporary = self.accept("TEMPORARY");
        let system = self.accept("SYSTEM");
        let t = self.peek();
        if self.accept("TABLE") {
            if or_replace {
                return Err(SluiceError::not_supported("CREATE OR REPLACE TABLE"));
            }
            let mut ct = self.parse_create_table_body(temporary)?;
            ct.position = position(start.span.start);
            Ok(FlinkStatement::CreateTable(Box::new(ct)))
        } else if self.accept("VIEW") {
            self.parse_create_view(temporary)
        } else if self.accept("FUNCTION") {
            let f = self.parse_create_function(temporary, system, position(start.span.start))?;
            Ok(FlinkStatement::CreateFunction(Box::new(f)))
        } else if self.accept("CATALOG") || self.accept("DATABASE") {
            Err(SluiceError::not_supported(format!(
                "CREATE {} at {} (Sluice has one catalog and database)",
                t.token,
                position(t.span.start)
            )))
        } else {
            Err(expected("TABLE, VIEW or FUNCTION", &t))
        }
    }

    fn parse_create_table_body(&mut self, temporary: bool) -> Result<CreateTable> {
        let if_not_exists = self.accept_all(&["IF", "NOT", "EXISTS"]);
        let name = self.object_name()?;
        let mut ct = CreateTable {
            name,
            temporary,
            if_not_exists,
            columns: Vec::new(),
            watermark: None,
            primary_key: None,
            comment: None,
            partitioned_by: Vec::new(),
            options: Vec::new(),
            like: None,
            position: position(self.peek().span.start),
        };
        if self.parser.consume_token(&Token::LParen) {
            loop {
                self.parse_table_element(&mut ct)?;
                if self.parser.consume_token(&Token::Comma) {
                    continue;
                }
                self.expect_token(Token::RParen)?;
                break;
            }
        }
        ct.comment = self.opt_comment()?;
        if self.accept_all(&["PARTITIONED", "BY"]) {
            ct.partitioned_by = self.ident_list()?;
        }
        if self.accept("WITH") {
            ct.options = self.parse_with_options()?;
        }
        if self.accept("LIKE") {
            let source = self.object_name()?;
            let mut options = Vec::new();
            if self.parser.consume_token(&Token::LParen) {
                loop {
                    let t = self.peek();
                    let strategy = match self.word_at(0).as_deref() {
                        Some(s @ ("INCLUDING" | "EXCLUDING" | "OVERWRITING")) => s.to_string(),
                        _ => return Err(expected("INCLUDING, EXCLUDING or OVERWRITING", &t)),
                    };
                    self.parser.next_token();
                    let t = self.peek();
                    let feature = match self.word_at(0).as_deref() {
                        Some(
                            f @ ("ALL" | "CONSTRAINTS" | "GENERATED" | "METADATA" | "OPTIONS"
                            | "PARTITIONS" | "WATERMARKS"),
                        ) => f.to_string(),
                        _ => {
                            return Err(expected(
                                "ALL, CONSTRAINTS, GENERATED, METADATA, OPTIONS, PARTITIONS or WATERMARKS",
                                &t,
                            ));
                        }
                    };
                    self.parser.next_token();
                    options.push(LikeOption { strategy, feature });
                    if !self.parser.consume_token(&Token::Comma) {
                        break;
                    }
                }
                self.expect_token(Token::RParen)?;
            }
            ct.like = Some(LikeClause { source, options });
        }
        if ct.columns.is_empty() && ct.like.is_none() {
            return Err(SluiceError::plan(format!(
                "CREATE TABLE {} at {}: a table needs at least one column",
                ct.name, ct.position
            )));
        }
        Ok(ct)
    }

    /// `WITH ('k' = 'v', ...)`.
    pub(super) fn parse_with_options(&mut self) -> Result<Vec<(String, String)>> {
        self.expect_token(Token::LParen)?;
        let mut out = Vec::new();
        if self.parser.consume_token(&Token::RParen) {
            return Ok(out);
        }
        loop {
            let key = self.option_text("an option key in quotes")?;
            self.expect_token(Token::Eq)?;
            let value = self.option_text("an option value in quotes")?;
            out.push((key, value));
            if self.parser.consume_token(&Token::Comma) {
                continue;
            }
            self.expect_token(Token::RParen)?;
            return Ok(out);
        }
    }

    fn parse_table_element(&mut self, ct: &mut CreateTable) -> Result<()> {
        let start = self.peek();
        if self.accept("WATERMARK") {
            self.expect_word("FOR")?;
            let column = self.identifier()?;
            self.expect_word("AS")?;
            let expr = self.sp(|p| p.parse_expr())?;
            if ct.watermark.is_some() {
                return Err(error_at(&start, "a table can have only one WATERMARK"));
            }
            ct.watermark = Some(WatermarkDef { column, expr });
            return Ok(());
        }
        if self.word_at(0).as_deref() == Some("CONSTRAINT") {
            self.parser.next_token();
            let _name = self.identifier()?;
        }
        if self.accept_all(&["PRIMARY", "KEY"]) {
            let columns = self.ident_list()?;
            self.expect_not_enforced()?;
            self.set_primary_key(
                ct,
                PrimaryKey {
                    columns,
                    position: position(start.span.start),
                },
            )?;
            return Ok(());
        }
        let name = self.identifier()?;
        let col_pos = position(start.span.start);
        if self.accept("AS") {
            let expr = self.sp(|p| p.parse_expr())?;
            let comment = self.opt_comment()?;
            ct.columns.push(ColumnDef {
                name,
                kind: ColumnKind::Computed(Box::new(expr)),
                comment,
                position: col_pos,
            });
            return Ok(());
        }
        let data_type = self.parse_flink_type()?;
        if self.accept("METADATA") {
            let key = if self.accept("FROM") {
                Some(self.string_literal("a metadata key in quotes")?)
            } else {
                None
            };
            let is_virtual = self.accept("VIRTUAL");
            let comment = self.opt_comment()?;
            ct.columns.push(ColumnDef {
                name,
                kind: ColumnKind::Metadata {
                    data_type,
                    key,
                    is_virtual,
                },
                comment,
                position: col_pos,
            });
            return Ok(());
        }
        let mut comment = None;
        loop {
            let t = self.peek();
            if self.accept_all(&["PRIMARY", "KEY"]) {
                self.expect_not_enforced()?;
                self.set_primary_key(
                    ct,
                    PrimaryKey {
                        columns: vec![name.clone()],
                        position: position(t.span.start),
                    },
                )?;
            } else if self.accept("COMMENT") {
                comment = Some(self.string_literal("a comment string")?);
            } else {
                break;
            }
        }
        ct.columns.push(ColumnDef {
            name,
            kind: ColumnKind::Physical(data_type),
            comment,
            position: col_pos,
        });
        Ok(())
    }

    /// An optional `COMMENT '..'` clause.
    fn opt_comment(&mut self) -> Result<Option<String>> {
        if self.accept("COMMENT") {
            Ok(Some(self.string_literal("a comment string")?))
        } else {
            Ok(None)
        }
    }

    fn set_primary_key(&mut self, ct: &mut CreateTable, pk: PrimaryKey) -> Result<()> {
        if ct.primary_key.is_some() {
            return Err(SluiceError::Parse {
                position: pk.position,
                message: "duplicate PRIMARY KEY definition".into(),
            });
        }
        ct.primary_key = Some(pk);
        Ok(())
    }

    fn expect_not_enforced(&mut self) -> Result<()> {
        if self.accept_all(&["NOT", "ENFORCED"]) {
            return Ok(());
        }
        let t = self.peek();
        Err(error_at(
            &t,
            "Flink doesn't support ENFORCED mode for PRIMARY KEY constraints: the only \
             supported mode is NOT ENFORCED (write PRIMARY KEY (..) NOT ENFORCED)",
        ))
    }

    fn parse_create_view(&mut self, temporary: bool) -> Result<FlinkStatement> {
        let if_not_exists = self.accept_all(&["IF", "NOT", "EXISTS"]);
        let name = self.object_name()?;
        let columns = if self.peek().token == Token::LParen {
            self.ident_list()?
        } else {
            Vec::new()
        };
        let comment = self.opt_comment()?;
        self.expect_word("AS")?;
        let FlinkStatement::Query { query, hints } = self.parse_query_public()? else {
            unreachable!("parse_query returns a query");
        };
        Ok(FlinkStatement::CreateView(Box::new(CreateView {
            name,
            temporary,
            if_not_exists,
            columns,
            comment,
            query,
            hints,
        })))
    }

    /// A Flink data type with its nullability.
    pub(super) fn parse_flink_type(&mut self) -> Result<FlinkType> {
        use FlinkTypeKind as K;
        let t = self.peek();
        let Some(word) = self.word_at(0) else {
            return Err(expected("a data type", &t));
        };
        self.parser.next_token();
        let kind = match word.as_str() {
            "STRING" => K::Varchar(MAX_LENGTH),
            "VARCHAR" => K::Varchar(self.opt_len(1)?),
            "CHAR" | "CHARACTER" => {
                if self.accept("VARYING") {
                    K::Varchar(self.opt_len(1)?)
                } else {
                    K::Char(self.opt_len(1)?)
                }
            }
            "BOOLEAN" | "BOOL" => K::Boolean,
            "BYTES" => K::Varbinary(MAX_LENGTH),
            "BINARY" => K::Binary(self.opt_len(1)?),
            "VARBINARY" => K::Varbinary(self.opt_len(1)?),
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let (p, s) = self.opt_precision_scale()?;
                if !(1..=38).contains(&p) || s > p {
                    return Err(error_at(
                        &t,
                        format!(
                            "DECIMAL({p}, {s}): precision must be 1..38 and scale 0..precision"
                        ),
                    ));
                }
                K::Decimal(p as u8, s as i8)
            }
            "TINYINT" => K::TinyInt,
            "SMALLINT" => K::SmallInt,
            "INT" | "INTEGER" => K::Int,
            "BIGINT" => K::BigInt,
            "FLOAT" | "REAL" => K::Float,
            "DOUBLE" => {
                self.accept("PRECISION");
                K::Double
            }
            "DATE" => K::Date,
            "TIME" => {
                let p = self.opt_time_precision(0)?;
                self.accept_all(&["WITHOUT", "TIME", "ZONE"]);
                K::Time(p)
            }
            "TIMESTAMP" => {
                let p = self.opt_time_precision(6)?;
                if self.accept_all(&["WITH", "LOCAL", "TIME", "ZONE"]) {
                    K::TimestampLtz(p)
                } else if self.accept_all(&["WITH", "TIME", "ZONE"]) {
                    return Err(SluiceError::not_supported(format!(
                        "TIMESTAMP WITH TIME ZONE at {} (Flink does not support it either; use TIMESTAMP_LTZ)",
                        position(t.span.start)
                    )));
                } else {
                    self.accept_all(&["WITHOUT", "TIME", "ZONE"]);
                    K::Timestamp(p)
                }
            }
            "TIMESTAMP_LTZ" => K::TimestampLtz(self.opt_time_precision(6)?),
            "ARRAY" => {
                self.expect_token(Token::Lt)?;
                let e = self.parse_flink_type()?;
                self.expect_gt()?;
                K::Array(Box::new(e))
            }
            "MAP" => {
                self.expect_token(Token::Lt)?;
                let k = self.parse_flink_type()?;
                self.expect_token(Token::Comma)?;
                let v = self.parse_flink_type()?;
                self.expect_gt()?;
                K::Map(Box::new(k), Box::new(v))
            }
            "ROW" => K::Row(self.parse_row_fields()?),
            "MULTISET" | "RAW" | "INTERVAL" | "STRUCTURED" => {
                return Err(SluiceError::not_supported(format!(
                    "data type {word} at {}",
                    position(t.span.start)
                )));
            }
            _ => return Err(error_at(&t, format!("unknown data type '{}'", t.token))),
        };
        let nullable = if self.accept_all(&["NOT", "NULL"]) {
            false
        } else {
            self.accept("NULL");
            true
        };
        Ok(FlinkType { kind, nullable })
    }

    fn parse_row_fields(&mut self) -> Result<Vec<RowField>> {
        let angle = match self.peek().token {
            Token::Lt => true,
            Token::LParen => false,
            _ => return Err(expected("'<' or '('", &self.peek())),
        };
        self.parser.next_token();
        let mut fields = Vec::new();
        loop {
            if angle && self.at_gt() {
                break;
            }
            if !angle && self.peek().token == Token::RParen {
                break;
            }
            let name = self.identifier()?;
            let data_type = self.parse_flink_type()?;
            let comment = match self.peek().token {
                Token::SingleQuotedString(s) => {
                    self.parser.next_token();
                    Some(s)
                }
                _ => None,
            };
            fields.push(RowField {
                name: name.value,
                data_type,
                comment,
            });
            if !self.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        if angle {
            self.expect_gt()?;
        } else {
            self.expect_token(Token::RParen)?;
        }
        Ok(fields)
    }

    fn opt_len(&mut self, default: u32) -> Result<u32> {
        if !self.parser.consume_token(&Token::LParen) {
            return Ok(default);
        }
        let n = self.sp(|p| p.parse_literal_uint())?;
        self.expect_token(Token::RParen)?;
        Ok(n.min(MAX_LENGTH as u64) as u32)
    }

    fn opt_time_precision(&mut self, default: u8) -> Result<u8> {
        let t = self.peek();
        if !self.parser.consume_token(&Token::LParen) {
            return Ok(default);
        }
        let n = self.sp(|p| p.parse_literal_uint())?;
        self.expect_token(Token::RParen)?;
        if n > 9 {
            return Err(error_at(&t, format!("precision {n} is out of range 0..9")));
        }
        Ok(n as u8)
    }

    fn opt_precision_scale(&mut self) -> Result<(u64, u64)> {
        if !self.parser.consume_token(&Token::LParen) {
            return Ok((10, 0));
        }
        let p = self.sp(|p| p.parse_literal_uint())?;
        let s = if self.parser.consume_token(&Token::Comma) {
            self.sp(|p| p.parse_literal_uint())?
        } else {
            0
        };
        self.expect_token(Token::RParen)?;
        Ok((p, s))
    }
}
