//! Column types as Glue and Athena see them: Hive type text (`struct<a:string,b:array<int>>`),
//! parsed from a Glue table (ours from `glue-schema`, or any `--table-from`) and derived from an
//! object's Parquet schema, then compared field by field. Struct fields are compared in order:
//! Spark and Athena match them by position.

use std::fmt;

use arrow::datatypes::DataType;

/// A Hive column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HiveType {
    /// `string`, `bigint`, `timestamp`, `decimal(10,2)`…: a scalar, by its (lower-case) name.
    Scalar(String),
    /// `array<element>`
    Array(Box<HiveType>),
    /// `map<key,value>`
    Map(Box<HiveType>, Box<HiveType>),
    /// `struct<name:type,…>`, fields in order.
    Struct(Vec<(String, HiveType)>),
}

impl fmt::Display for HiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiveType::Scalar(name) => f.write_str(name),
            HiveType::Array(element) => write!(f, "array<{element}>"),
            HiveType::Map(key, value) => write!(f, "map<{key},{value}>"),
            HiveType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}:{ty}")?;
                }
                f.write_str(">")
            }
        }
    }
}

impl HiveType {
    /// Parses Hive type text (spaces allowed around names and separators).
    pub(crate) fn parse(text: &str) -> Result<HiveType, String> {
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
        };
        let ty = parser.ty()?;
        parser.skip_spaces();
        if parser.at != parser.text.len() {
            return Err(format!("unexpected text at {} in `{text}`", parser.at));
        }
        Ok(ty)
    }

    /// The type Glue and Athena read an Arrow type (of an object's Parquet schema) as; `None`
    /// for a type Hive has no name for.
    pub(crate) fn of_arrow(data_type: &DataType) -> Option<HiveType> {
        let scalar = |name: &str| Some(HiveType::Scalar(name.to_owned()));
        match data_type {
            DataType::Boolean => scalar("boolean"),
            DataType::Int8 => scalar("tinyint"),
            DataType::Int16 => scalar("smallint"),
            DataType::Int32 | DataType::UInt8 | DataType::UInt16 => scalar("int"),
            DataType::Int64 | DataType::UInt32 => scalar("bigint"),
            DataType::Float32 => scalar("float"),
            DataType::Float64 => scalar("double"),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => scalar("string"),
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => scalar("binary"),
            DataType::Timestamp(..) => scalar("timestamp"),
            DataType::Date32 | DataType::Date64 => scalar("date"),
            DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
                Some(HiveType::Scalar(format!("decimal({p},{s})")))
            }
            DataType::List(element) | DataType::LargeList(element) => Some(HiveType::Array(
                Box::new(HiveType::of_arrow(element.data_type())?),
            )),
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 => Some(HiveType::Map(
                    Box::new(HiveType::of_arrow(fields[0].data_type())?),
                    Box::new(HiveType::of_arrow(fields[1].data_type())?),
                )),
                _ => None,
            },
            DataType::Struct(fields) => fields
                .iter()
                .map(|f| Some((f.name().clone(), HiveType::of_arrow(f.data_type())?)))
                .collect::<Option<Vec<_>>>()
                .map(HiveType::Struct),
            _ => None,
        }
    }
}

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    /// A name: letters, digits, `_` (and, for `decimal(10,2)`, the parenthesised part).
    fn name(&mut self) -> Result<String, String> {
        self.skip_spaces();
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.at += 1;
        }
        if self.text.get(self.at) == Some(&b'(') {
            while self.text.get(self.at).is_some_and(|b| *b != b')') {
                self.at += 1;
            }
            self.at += 1;
        }
        if start == self.at {
            return Err(format!("a name expected at {}", self.at));
        }
        let name = self.text.get(start..self.at.min(self.text.len()));
        Ok(String::from_utf8_lossy(name.unwrap_or_default()).to_ascii_lowercase())
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_spaces();
        if self.text.get(self.at) == Some(&byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("`{}` expected at {}", char::from(byte), self.at))
        }
    }

    fn ty(&mut self) -> Result<HiveType, String> {
        let name = self.name()?;
        match name.as_str() {
            "array" => {
                self.expect(b'<')?;
                let element = self.ty()?;
                self.expect(b'>')?;
                Ok(HiveType::Array(Box::new(element)))
            }
            "map" => {
                self.expect(b'<')?;
                let key = self.ty()?;
                self.expect(b',')?;
                let value = self.ty()?;
                self.expect(b'>')?;
                Ok(HiveType::Map(Box::new(key), Box::new(value)))
            }
            "struct" => {
                self.expect(b'<')?;
                let mut fields = Vec::new();
                loop {
                    let field = self.name()?;
                    self.expect(b':')?;
                    fields.push((field, self.ty()?));
                    self.skip_spaces();
                    match self.text.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'>') => {
                            self.at += 1;
                            return Ok(HiveType::Struct(fields));
                        }
                        _ => return Err(format!("`,` or `>` expected at {}", self.at)),
                    }
                }
            }
            _ => Ok(HiveType::Scalar(name)),
        }
    }
}

/// How an object's type differs from the table's at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Difference {
    /// Different types (`path`, object's, table's).
    Type(String, String, String),
    /// The object's struct has fields the table's lacks (a field dropped, or all read as null).
    FieldsNotInTable(String, Vec<String>),
    /// Both have the same fields in another order (Athena and Spark read them by position).
    FieldOrder(String),
    /// The table's struct has fields the object lacks: read by position, the next fields shift.
    FieldsMissing(String, Vec<String>),
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Type(path, object, table) => {
                write!(
                    f,
                    "`{path}` is {object} in the object, {table} in the table"
                )
            }
            Difference::FieldsNotInTable(path, names) => {
                write!(
                    f,
                    "`{path}` has fields the table lacks: {}",
                    names.join(", ")
                )
            }
            Difference::FieldOrder(path) => write!(
                f,
                "`{path}` has the table's fields in another order (read by position)"
            ),
            Difference::FieldsMissing(path, names) => {
                write!(f, "`{path}` lacks the table's fields {}", names.join(", "))
            }
        }
    }
}

/// The differences of `object` from `table` at `path`, outermost first.
pub(crate) fn differences(path: &str, object: &HiveType, table: &HiveType) -> Vec<Difference> {
    let mut out = Vec::new();
    compare(path, object, table, &mut out);
    out
}

fn compare(path: &str, object: &HiveType, table: &HiveType, out: &mut Vec<Difference>) {
    match (object, table) {
        (HiveType::Array(a), HiveType::Array(b)) => compare(path, a, b, out),
        (HiveType::Map(ka, va), HiveType::Map(kb, vb)) => {
            compare(&format!("{path}.key"), ka, kb, out);
            compare(&format!("{path}.value"), va, vb, out);
        }
        (HiveType::Struct(a), HiveType::Struct(b)) => {
            let names = |fields: &[(String, HiveType)]| -> Vec<String> {
                fields.iter().map(|(name, _)| name.clone()).collect()
            };
            let (in_object, in_table) = (names(a), names(b));
            let extra: Vec<String> = in_object
                .iter()
                .filter(|n| !in_table.contains(n))
                .cloned()
                .collect();
            let missing: Vec<String> = in_table
                .iter()
                .filter(|n| !in_object.contains(n))
                .cloned()
                .collect();
            if !extra.is_empty() {
                out.push(Difference::FieldsNotInTable(path.to_owned(), extra));
            }
            if !missing.is_empty() {
                out.push(Difference::FieldsMissing(path.to_owned(), missing));
            }
            let shared_order = |from: &[String], other: &[String]| -> Vec<String> {
                from.iter().filter(|n| other.contains(n)).cloned().collect()
            };
            if shared_order(&in_object, &in_table) != shared_order(&in_table, &in_object) {
                out.push(Difference::FieldOrder(path.to_owned()));
            }
            for (name, ty) in a {
                if let Some((_, other)) = b.iter().find(|(n, _)| n == name) {
                    compare(&format!("{path}.{name}"), ty, other, out);
                }
            }
        }
        _ if object == table => {}
        _ => out.push(Difference::Type(
            path.to_owned(),
            object.to_string(),
            table.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{Field, Fields, TimeUnit};

    use super::*;

    #[test]
    fn hive_text_round_trips_and_spaces_and_case_are_read() {
        for text in [
            "string",
            "array<struct<name:string,uid:bigint>>",
            "map<string,string>",
            "struct<a:int,b:array<float>,c:map<string,string>,d:decimal(10,2)>",
        ] {
            assert_eq!(HiveType::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            HiveType::parse(" STRUCT< a : INT , b:string >").unwrap(),
            HiveType::parse("struct<a:int,b:string>").unwrap()
        );
        for bad in ["", "struct<a>", "array<int", "map<string>", "int>"] {
            assert!(HiveType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arrow_types_read_as_glue_reads_them() {
        let ty = DataType::Struct(Fields::from(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
            Field::new(
                "l",
                DataType::List(Arc::new(Field::new("element", DataType::Int64, true))),
                true,
            ),
        ]));
        assert_eq!(
            HiveType::of_arrow(&ty).unwrap().to_string(),
            "struct<t:timestamp,l:array<bigint>>"
        );
        assert_eq!(HiveType::of_arrow(&DataType::Null), None);
    }

    #[test]
    fn differences_name_the_path_type_order_and_fields() {
        let parse = |t: &str| HiveType::parse(t).unwrap();
        let table = parse("struct<a:string,b:struct<c:int,d:timestamp>,e:array<string>>");
        assert!(differences("x", &table, &table).is_empty());
        let object = parse("struct<b:struct<c:int,d:string>,a:string,e:array<string>,f:int>");
        assert_eq!(
            differences("x", &object, &table),
            vec![
                Difference::FieldsNotInTable("x".into(), vec!["f".into()]),
                Difference::FieldOrder("x".into()),
                Difference::Type("x.b.d".into(), "string".into(), "timestamp".into()),
            ]
        );
        let fewer = parse("struct<a:string,e:array<string>>");
        assert_eq!(
            differences("x", &fewer, &table),
            vec![Difference::FieldsMissing("x".into(), vec!["b".into()])]
        );
    }
}
