//! Masking of personal numbers for every view and export where the viewer's role does not need the full value.

/// `13812345678` → `138****5678`.
pub fn mobile(m: &str) -> String {
    let chars: Vec<char> = m.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// `310114199001011234` → `310***********1234`.
pub fn id_card(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// A person's name where anyone may see it (the public member card): `王建明` → `王*明`, `李强` → `李*`,
/// `欧阳小芳` → `欧**芳`.
pub fn name(n: &str) -> String {
    let chars: Vec<char> = n.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        len => format!("{}{}{}", chars[0], "*".repeat(len - 2), chars[len - 1]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(super::name("王建明"), "王*明");
        assert_eq!(super::name("李强"), "李*");
        assert_eq!(super::name("欧阳小芳"), "欧**芳");
        assert_eq!(super::name("王"), "*");
    }

    #[test]
    fn masks() {
        assert_eq!(super::mobile("13812345678"), "138****5678");
        assert_eq!(super::id_card("11010519491231002X"), "110***********002X");
        assert_eq!(super::mobile("123"), "***");
    }
}
