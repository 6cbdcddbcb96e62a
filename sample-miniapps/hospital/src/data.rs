//! The hospital's departments, doctors and weekly clinic hours.

/// A department patients can book with.
pub struct Department {
    /// The id used in actions (`dept:<id>`).
    pub id: &'static str,
    /// The name shown to patients.
    pub name: &'static str,
    /// One line about what the department does.
    pub about: &'static str,
}

/// A doctor with clinic hours.
pub struct Doctor {
    /// The id used in actions (`doctor:<id>`).
    pub id: &'static str,
    /// The department's id.
    pub department: &'static str,
    /// The name shown to patients.
    pub name: &'static str,
    /// The professional title.
    pub title: &'static str,
    /// What the doctor is known for.
    pub speciality: &'static str,
    /// The registration fee, in fen.
    pub fee_fen: u64,
    /// The weekdays with clinic hours: bit 0 for Monday to bit 6 for Sunday.
    pub weekdays: u8,
    /// The start of each appointment on a clinic day, as (hour, minute).
    pub times: &'static [(u8, u8)],
}

const EVERY_DAY: u8 = 0b111_1111;
const WEEKDAYS: u8 = 0b001_1111;
const MON_TO_SAT: u8 = 0b011_1111;
const MON_WED_FRI: u8 = 0b001_0101;
const TUE_THU_SAT: u8 = 0b010_1010;
const WEEKEND: u8 = 0b110_0000;

/// The departments, in the order the home page lists them.
pub const DEPARTMENTS: &[Department] = &[
    Department {
        id: "obstetrics",
        name: "Obstetrics",
        about: "Antenatal visits, birth planning and care after delivery",
    },
    Department {
        id: "gynaecology",
        name: "Gynaecology",
        about: "Women's health from adolescence to menopause",
    },
    Department {
        id: "prenatal",
        name: "Prenatal Care",
        about: "Screening, ultrasound and prenatal diagnosis",
    },
    Department {
        id: "paediatrics",
        name: "Paediatrics",
        about: "Newborns and children up to 14",
    },
];

/// The doctors, grouped by department.
pub const DOCTORS: &[Doctor] = &[
    Doctor {
        id: "chen-li",
        department: "obstetrics",
        name: "Dr. Chen Li",
        title: "Chief Physician",
        speciality: "High-risk pregnancy",
        fee_fen: 5000,
        weekdays: EVERY_DAY,
        times: &[(8, 30), (9, 0), (9, 30), (10, 0)],
    },
    Doctor {
        id: "wang-fang",
        department: "obstetrics",
        name: "Dr. Wang Fang",
        title: "Associate Chief Physician",
        speciality: "Natural birth and postnatal care",
        fee_fen: 3000,
        weekdays: WEEKDAYS,
        times: &[(14, 0), (14, 30), (15, 0)],
    },
    Doctor {
        id: "zhao-min",
        department: "gynaecology",
        name: "Dr. Zhao Min",
        title: "Chief Physician",
        speciality: "Minimally invasive surgery",
        fee_fen: 5000,
        weekdays: MON_WED_FRI,
        times: &[(9, 0), (10, 0)],
    },
    Doctor {
        id: "liu-yan",
        department: "gynaecology",
        name: "Dr. Liu Yan",
        title: "Attending Physician",
        speciality: "Menstrual and hormonal disorders",
        fee_fen: 1500,
        weekdays: TUE_THU_SAT,
        times: &[(14, 0), (15, 0)],
    },
    Doctor {
        id: "sun-hui",
        department: "prenatal",
        name: "Dr. Sun Hui",
        title: "Chief Physician",
        speciality: "Prenatal screening and diagnosis",
        fee_fen: 5000,
        weekdays: MON_TO_SAT,
        times: &[(8, 0), (9, 0)],
    },
    Doctor {
        id: "zhou-jing",
        department: "prenatal",
        name: "Dr. Zhou Jing",
        title: "Attending Physician",
        speciality: "Obstetric ultrasound",
        fee_fen: 1500,
        weekdays: EVERY_DAY,
        times: &[(13, 30), (14, 30)],
    },
    Doctor {
        id: "wu-lei",
        department: "paediatrics",
        name: "Dr. Wu Lei",
        title: "Associate Chief Physician",
        speciality: "Neonatology",
        fee_fen: 3000,
        weekdays: WEEKDAYS,
        times: &[(9, 0), (9, 30)],
    },
    Doctor {
        id: "huang-xin",
        department: "paediatrics",
        name: "Dr. Huang Xin",
        title: "Attending Physician",
        speciality: "Child health check-ups",
        fee_fen: 1500,
        weekdays: WEEKEND,
        times: &[(10, 0), (11, 0)],
    },
];

/// The department with this id.
pub fn department(id: &str) -> Option<&'static Department> {
    DEPARTMENTS.iter().find(|d| d.id == id)
}

/// The doctor with this id.
pub fn doctor(id: &str) -> Option<&'static Doctor> {
    DOCTORS.iter().find(|d| d.id == id)
}

/// The doctors of a department, in listing order.
pub fn doctors_of(department: &str) -> impl Iterator<Item = &'static Doctor> + use<'_> {
    DOCTORS.iter().filter(move |d| d.department == department)
}

impl Doctor {
    /// The doctor's department.
    pub fn department(&self) -> &'static Department {
        department(self.department).expect("every doctor's department is listed")
    }

    /// Whether the doctor sees patients on `weekday` (0 for Monday).
    pub fn works_on(&self, weekday: u8) -> bool {
        self.weekdays & (1 << weekday) != 0
    }
}

/// A fee in fen as shown to patients: `CNY 50.00`.
pub fn money(fen: u64) -> String {
    format!("CNY {}.{:02}", fen / 100, fen % 100)
}
