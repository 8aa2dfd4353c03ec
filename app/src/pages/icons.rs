//! Small inline icons (24×24, stroke in `currentColor`), so that the pages
//! need no icon font and no request of their own.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Flight,
    Car,
    Taxi,
    Meal,
    Stay,
    Visit,
    Check,
    Cross,
    Calendar,
    People,
    Wallet,
}

impl Icon {
    fn path(self) -> &'static str {
        match self {
            Icon::Flight => "M2 16l20-7-20-7 3 7-3 7zM5 9h9",
            Icon::Car => "M3 13l2-6h14l2 6v5H3zM3 13h18M7 18v2M17 18v2M7 15.5h.01M17 15.5h.01",
            Icon::Taxi => "M3 13l2-6h14l2 6v5H3zM3 13h18M9 4h6v3H9zM7 18v2M17 18v2",
            Icon::Meal => "M7 2v8a2 2 0 0 0 4 0V2M9 10v12M17 2c-2 2-3 5-3 8h3v12",
            Icon::Stay => "M2 18V6M2 14h20v4M22 18v-4a4 4 0 0 0-4-4h-8v4M6 11.5h.01",
            Icon::Visit => {
                "M12 21s-7-6.2-7-11.5a7 7 0 0 1 14 0C19 14.8 12 21 12 21zM12 12a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z"
            }
            Icon::Check => "M4 12.5l5 5L20 6.5",
            Icon::Cross => "M6 6l12 12M18 6L6 18",
            Icon::Calendar => "M4 5h16v16H4zM4 10h16M9 3v4M15 3v4",
            Icon::People => {
                "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21a7 7 0 0 1 14 0M17 11a3 3 0 1 0 0-6M22 21a5 5 0 0 0-5-5"
            }
            Icon::Wallet => "M3 7h18v13H3zM3 7l13-4v4M16 13.5h.01",
        }
    }
}

/// The icon, hidden from screen readers (the text next to it says it).
#[component]
pub fn Glyph(icon: Icon) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="20"
            height="20"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            <path d=icon.path() />
        </svg>
    }
}
